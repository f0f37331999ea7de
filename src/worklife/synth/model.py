"""The synthetic organisation as data: one frozen record of columnar tables.

Every instant is an ``int64`` number of seconds since the Unix epoch, UTC. Tables are
pandas DataFrames (treat them as read-only); their columns follow the canonical store
(``worklife.store.TABLES``) so that ``load_into_store`` is a rename-free copy.

Tables of ``Org``:

- ``people``: person_id, email, display_name, tz, work_start, work_end, workdays,
  manager_id, team, level, jurisdiction, slack_id (None where a field is planted missing).
- ``series``: one row per recurring series: uid, title, organizer_id, tz, dtstart_local
  (naive local ``datetime``), duration_s, count (RRULE COUNT, weekly), exdates (tuple of
  naive local datetimes), attendees (tuple of (person_id, PARTSTAT-style response)).
- ``meetings``: one row per occurrence (after recurrence expansion), canonical columns
  plus ``tz`` (the organizer's zone, used for DTSTART;TZID), ``override`` (the occurrence
  is written as a RECURRENCE-ID override) and ``kind`` (standup, one_on_one, adhoc, ...).
- ``meeting_attendees``: meeting_key, person_id, response, role, is_organizer.
- ``messages``: canonical columns plus conv_id (Slack conversation id), ts, thread_ts,
  subtype (Slack), references (space-separated Message-IDs, e-mail), sender_tz.
- ``message_recipients``: e-mail to/cc/bcc and chat DM/MPIM 'to' rows. Channel
  members of chat channel messages are *not* materialised (they would dominate the
  table); ``channels`` lists members and ``chat_channel_recipients`` expands them.
- ``channels``: conv_id, name, kind (channel, dm, mpim), members (tuple of person_id).
- ``commits``: outcome_key (the git commit hash), person_id, at_utc, offset_s (author's
  UTC offset at that instant), title.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

DOMAIN = "example.com"

# (IANA zone, jurisdiction, region). Teams draw remote members from their own region.
ZONES: tuple[tuple[str, str, str], ...] = (
    ("Europe/Paris", "FR", "eu"),
    ("Europe/Lisbon", "PT", "eu"),
    ("Europe/Madrid", "ES", "eu"),
    ("Europe/Brussels", "BE", "eu"),
    ("Europe/Dublin", "IE", "eu"),
    ("Europe/Berlin", "DE", "eu"),
    ("America/Toronto", "CA-ON", "na"),
    ("America/Los_Angeles", "US-CA", "na"),
    ("Australia/Sydney", "AU-NSW", "au"),
    ("America/Santiago", "CL", "sa"),
    ("America/Bogota", "CO", "sa"),
    ("America/Argentina/Buenos_Aires", "AR", "sa"),
    ("Asia/Kolkata", "IN", "as"),
    ("Asia/Kathmandu", "NP", "as"),
)
JURISDICTION = {z: j for z, j, _ in ZONES}
REGION = {z: r for z, _, r in ZONES}


@dataclass(frozen=True)
class Org:
    """A generated organisation: people, calendars, messages, commits and what was planted."""

    seed: int
    start: date
    weeks: int
    people: pd.DataFrame
    series: pd.DataFrame
    meetings: pd.DataFrame
    meeting_attendees: pd.DataFrame
    messages: pd.DataFrame
    message_recipients: pd.DataFrame
    channels: pd.DataFrame
    commits: pd.DataFrame
    planted: dict[str, Any] = field(default_factory=dict)
    division: int = 0  # index of this division in a divisioned org (worklife.synth.divisions)

    def chat_channel_recipients(self) -> pd.DataFrame:
        """(message_key, person_id, kind='channel-member') for chat messages posted in channels."""
        msgs = self.messages
        posted = msgs.loc[(msgs["channel"] == "chat") & msgs["conv_id"].str.startswith("C"),
                          ["message_key", "conv_id"]]
        members = self.channels.loc[self.channels["kind"] == "channel", ["conv_id", "members"]]
        members = members.explode("members").rename(columns={"members": "person_id"})
        out = posted.merge(members, on="conv_id", how="inner")[["message_key", "person_id"]]
        out["kind"] = "channel-member"
        return out.reset_index(drop=True)

    def all_recipients(self) -> pd.DataFrame:
        """Every canonical ``message_recipients`` row, channel members expanded."""
        return pd.concat([self.message_recipients, self.chat_channel_recipients()],
                         ignore_index=True)


@dataclass(frozen=True)
class DivisionSpec:
    """Where one division sits in its organisation (see ``worklife.synth.divisions``)."""

    index: int                # 0 carries the planted behaviours
    first: int                # org-wide 0-based index of its first person
    people: int
    total: int                # people in the whole organisation
    first_team: int           # org-wide index of its first team
    head_manager: str | None  # the org head (division 0's head) for divisions > 0, else None
    layout: tuple[tuple[int, int], ...] = ()  # (first, people) of every division

    @property
    def width(self) -> int:
        """Digits of person numbers (``user0042``), org-wide."""
        return max(3, len(str(self.total)))

    def all_ids(self) -> tuple[str, ...]:
        """Every person_id of the organisation, in order."""
        return tuple(f"user{i:0{self.width}d}@{DOMAIN}" for i in range(1, self.total + 1))

    def layout_json(self) -> list[dict]:
        """The division layout as written to planted.json."""
        w = self.width
        return [{"index": k, "people": n, "first_person": f"user{f + 1:0{w}d}@{DOMAIN}",
                 "last_person": f"user{f + n:0{w}d}@{DOMAIN}"} for k, (f, n) in enumerate(self.layout)]
