"""Boundary pressure: who sends work into other people's rest, computed in DuckDB.

All classification is in the **recipient's** calendar (zone, working hours, workdays,
public holidays; see ``_localtime``). Definitions (docs/policy.md):

- **contact event**: one (message, recipient) pair where the recipient is an internal
  person in ``people``, is not the sender, and is on To/Cc/Bcc (channel members too when
  ``boundary.channel_member_contact`` is true); auto messages are kept but flagged.
- **off-hours contact**: a non-auto contact event whose ``sent_utc`` is not working
  time for the recipient.
- **live exchange**: the recipient sent the sender a message in the
  ``boundary.reply_window_minutes`` before (any thread); such a message answers someone
  who is already online.
- **could have been held**: off-hours, not a live exchange, subject not matching an
  urgent pattern.
- **after-hours reply**: a message from the recipient, in reply (``in_reply_to`` = the
  message's id, or same ``thread_id``) within the reply window, itself sent outside the
  recipient's working time, to an off-hours contact.
- **manager contact**: off-hours contact whose sender is the recipient's ``manager_id``.
- **meeting burden**: the share of each person's qualifying meeting time (docs/metrics.md)
  outside their own working time, and who organised it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from worklife.config import Config
from worklife.policy._localtime import localize, prepare, workday_sql
from worklife.policy.model import QuietHours
from worklife.policy.sql import PolicyDb, as_db, open_db
from worklife.privacy.suppression import min_group_size as configured_min_group
from worklife.privacy.suppression import too_small_rows
from worklife.rules.meetings import meeting_rule
from worklife.rules.worktime import time_of_day_sql
from worklife.store import Store

log = logging.getLogger(__name__)

DEFAULT_URGENT = (r"\burgent\b", r"\bincident\b", r"\boutage\b")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware instant")
    return value.astimezone(UTC).replace(tzinfo=None)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_contacts(store: Store | PolicyDb, config: Config, *, urgent_patterns: tuple[str, ...] = DEFAULT_URGENT,
                   quiet: QuietHours | None = None, prepared: bool = False) -> int:
    """Create temp tables ``pol_contact`` and ``pol_replies``; return the contact event count.

    On a ``PolicyDb`` that built them with the same inputs already, they are reused.
    """
    db = as_db(store)
    key = (tuple(urgent_patterns), quiet, prepared, tuple((str(k), repr(v)) for k, v in config.items()))
    if db.built.get("pol_contact") == key:
        return db.built["pol_contact_rows"]
    db.built.pop("pol_contact", None)
    if not prepared:
        prepare(db, config)
    window_s = int(float(config["boundary.reply_window_minutes"]) * 60)
    kinds = "('to', 'cc', 'bcc', 'channel-member')" if config.get(
        "boundary.channel_member_contact", False) else "('to', 'cc', 'bcc')"
    urgent = "(?i)(" + "|".join(urgent_patterns) + ")" if urgent_patterns else None
    urgent_sql = (f"coalesce(regexp_matches(c.subject_or_channel, {_sql_str(urgent)}), false)"
                  if urgent else "false")
    base = f"""
      SELECT m.message_key, m.message_id, m.channel, m.sender_id, r.person_id AS recipient_id,
             m.sent_utc, m.thread_id, m.in_reply_to, m.subject_or_channel, m.is_auto
      FROM messages m
      JOIN (SELECT DISTINCT message_key, person_id FROM message_recipients WHERE kind IN {kinds}) r
        ON r.message_key = m.message_key
      JOIN pol_sched rs ON rs.person_id = r.person_id AND rs.is_internal
      WHERE m.sender_id IS NULL OR r.person_id <> m.sender_id"""
    quiet_sql = "false"
    if quiet is not None:
        sod = time_of_day_sql("c.r_local_ts")
        inside = (f"({sod} >= {quiet.start_s} AND {sod} < {quiet.end_s})" if quiet.start_s < quiet.end_s
                  else f"({sod} >= {quiet.start_s} OR {sod} < {quiet.end_s})")
        nonwork = ("NOT " + workday_sql("c.r_local_date", "rs.mask", "rs.jurisdiction")
                   if quiet.include_non_workdays else "false")
        quiet_sql = f"(NOT c.is_auto AND ({inside} OR {nonwork}))"
    db.temp("pol_contact", f"""
      SELECT *, off_hours AND NOT live AND NOT urgent AS holdable FROM (
      WITH loc AS ({localize(base, 'recipient_id', 'sent_utc', 'r_')}),
      snd AS ({localize("SELECT DISTINCT message_key, sender_id AS _sid, sent_utc AS _st FROM messages",
                        '_sid', '_st', 's_')})
      SELECT c.*, snd.s_local_ts, snd.s_is_work,
             (NOT c.is_auto AND NOT c.r_is_work) AS off_hours,
             {urgent_sql} AS urgent,
             EXISTS (SELECT 1 FROM messages m2 JOIN message_recipients r2 ON r2.message_key = m2.message_key
                     WHERE m2.sender_id = c.recipient_id AND r2.person_id = c.sender_id
                       AND m2.sent_utc <= c.sent_utc
                       AND m2.sent_utc > c.sent_utc - to_seconds({window_s})) AS live,
             (rs.manager_id IS NOT NULL AND rs.manager_id = c.sender_id) AS from_manager,
             coalesce(ss.is_internal, false) AS sender_internal,
             ss.team AS sender_team, rs.team AS recipient_team,
             {quiet_sql} AS quiet
      FROM loc c
      JOIN pol_sched rs ON rs.person_id = c.recipient_id
      LEFT JOIN pol_sched ss ON ss.person_id = c.sender_id
      LEFT JOIN snd ON snd.message_key = c.message_key) t""")
    # After-hours replies: the recipient answers an off-hours message, off-hours, within the window.
    replies = f"""
      SELECT c.message_key, c.sender_id, c.recipient_id, c.sent_utc, c.r_local_ts,
             x.message_key AS reply_key, x.sent_utc AS reply_utc
      FROM pol_contact c
      JOIN messages x ON x.sender_id = c.recipient_id AND NOT x.is_auto
        AND x.sent_utc > c.sent_utc AND x.sent_utc <= c.sent_utc + to_seconds({window_s})
        AND ((c.message_id IS NOT NULL AND x.in_reply_to = c.message_id)
             OR (c.thread_id IS NOT NULL AND x.thread_id = c.thread_id))
      WHERE c.off_hours AND c.sender_id IS NOT NULL"""
    db.temp("pol_replies", f"""
      SELECT message_key, sender_id, recipient_id, sent_utc, r_local_ts,
             arg_min(reply_key, reply_utc) AS reply_key, min(reply_utc) AS reply_utc,
             arg_min(reply_local_ts, reply_utc) AS reply_local_ts
      FROM ({localize(replies, 'recipient_id', 'reply_utc', 'reply_')}) y
      WHERE NOT y.reply_is_work
      GROUP BY ALL""")
    db.built["pol_contact_rows"] = db.rows("SELECT count(*) FROM pol_contact")[0][0]
    db.built["pol_contact"] = key
    return db.built["pol_contact_rows"]


def _window(start: datetime | None, end: datetime | None, col: str) -> str:
    parts = []
    if start is not None:
        parts.append(f"{col} >= TIMESTAMP '{_utc(start).isoformat(sep=' ')}'")
    if end is not None:
        parts.append(f"{col} < TIMESTAMP '{_utc(end).isoformat(sep=' ')}'")
    return " AND ".join(parts) or "true"


def meeting_burden(store: Store | PolicyDb, config: Config, start: datetime | None = None,
                   end: datetime | None = None) -> pd.DataFrame:
    """Per person: qualifying meeting hours, the part outside their working time, and the share.

    Needs ``prepare`` first. Meetings are cut at the attendee's local midnights; the
    local wall clock of each piece is compared with the working window. (A meeting that
    spans a DST change is measured on the wall clock of its start offset.)
    """
    rule = meeting_rule(config)
    n_days = rule.max_seconds // 86400 + 2  # local dates a qualifying meeting can touch
    day_ts = " ".join(f"WHEN k.n = {i} THEN date_trunc('day', l_local_ts) + INTERVAL {i} DAY"
                      for i in range(1, n_days))
    k = " UNION ALL ".join(f"SELECT {i} AS n" for i in range(n_days))
    q = f"""
      WITH att AS (
        SELECT meeting_key, organizer_id, start_utc, end_utc, person_id
        FROM ({rule.qualifying_attendance_sql(_window(start, end, 'm.start_utc'))}) q),
      loc AS ({localize('SELECT * FROM att', 'person_id', 'start_utc', 'l_')}),
      days AS (
        SELECT loc.*, CASE WHEN k.n = 0 THEN date_trunc('day', l_local_ts) {day_ts} END AS day_ts
        FROM loc CROSS JOIN ({k}) k),
      pieces AS (
        SELECT days.* EXCLUDE (day_ts), CAST(day_ts AS DATE) AS day,
               greatest(l_local_ts, day_ts) AS p0,
               least(l_local_ts + (end_utc - start_utc), day_ts + INTERVAL 1 DAY) AS p1
        FROM days),
      scored AS (
        SELECT p.*, s.team,
          epoch(p1) - epoch(p0) AS piece_s,
          CASE WHEN {workday_sql('p.day', 's.mask', 's.jurisdiction')} THEN
            greatest(0, epoch(least(p1, CAST(p.day AS TIMESTAMP) + to_seconds(s.work_end_s)))
                        - epoch(greatest(p0, CAST(p.day AS TIMESTAMP) + to_seconds(s.work_start_s))))
          ELSE 0 END AS inside_s
        FROM pieces p JOIN pol_sched s ON s.person_id = p.person_id
        WHERE p1 > p0)
      SELECT person_id, meeting_key, organizer_id, team,
             sum(piece_s) AS meeting_s, sum(piece_s - inside_s) AS outside_s
      FROM scored GROUP BY ALL"""
    return as_db(store).df(q)


def boundary_pressure(store: Store | PolicyDb | str | Path, config: Config, *, start: datetime | None = None,
                      end: datetime | None = None, urgent_patterns: tuple[str, ...] = DEFAULT_URGENT,
                      min_group_size: int | None = None, engine: str = "duckdb",
                      spark_master: str = "local[*]") -> dict[str, pd.DataFrame]:
    """Boundary-pressure tables for messages sent in [start, end) (aware instants; None: all).

    Keys: ``by_sender``, ``by_recipient``, ``by_pair``, ``by_team`` (sender team x
    recipient team, small teams suppressed), ``manager`` (manager -> report),
    ``replies`` (after-hours replies per pair), ``meetings`` (time-zone burden per
    person) and ``meeting_organizers`` (who organised each person's off-hours meetings).
    Hours are hours; shares are 0..1. ``engine="spark"`` runs the same SQL on Spark
    (``store`` may then be a folder of Parquet tables; see ``worklife.policy.sql.open_db``).
    """
    with open_db(store, engine, spark_master) as db:
        return _boundary_pressure(db, config, start, end, urgent_patterns, min_group_size)


def _boundary_pressure(db: PolicyDb, config: Config, start: datetime | None, end: datetime | None,
                       urgent_patterns: tuple[str, ...], min_group_size: int | None) -> dict[str, pd.DataFrame]:
    build_contacts(db, config, urgent_patterns=urgent_patterns)
    w, wc = _window(start, end, "sent_utc"), _window(start, end, "c.sent_utc")
    mgs = configured_min_group(config) if min_group_size is None else min_group_size
    out: dict[str, pd.DataFrame] = {}
    out["by_sender"] = db.df(f"""
      SELECT sender_id, count(DISTINCT message_key) FILTER (WHERE NOT is_auto) AS messages,
             count(DISTINCT message_key) FILTER (WHERE off_hours) AS off_hours_messages,
             count(*) FILTER (WHERE off_hours) AS off_hours_contacts,
             count(DISTINCT recipient_id) FILTER (WHERE off_hours) AS recipients_reached,
             count(*) FILTER (WHERE off_hours AND holdable) AS holdable_contacts,
             count(*) FILTER (WHERE off_hours AND s_is_work) AS sent_in_own_hours
      FROM pol_contact WHERE {w} GROUP BY sender_id
      ORDER BY off_hours_contacts DESC, sender_id""")
    # Reply counts are joined pre-aggregated (Spark refuses correlated subqueries next to GROUP BY).
    out["by_recipient"] = db.df(f"""
      SELECT c.recipient_id, count(*) FILTER (WHERE NOT c.is_auto) AS contacts,
             count(*) FILTER (WHERE c.off_hours) AS off_hours_contacts,
             count(DISTINCT c.sender_id) FILTER (WHERE c.off_hours) AS senders,
             count(*) FILTER (WHERE c.off_hours AND c.from_manager) AS from_manager,
             coalesce(max(r.n), 0) AS after_hours_replies
      FROM pol_contact c
      LEFT JOIN (SELECT recipient_id, count(*) AS n FROM pol_replies WHERE {w} GROUP BY recipient_id) r
        ON r.recipient_id = c.recipient_id
      WHERE {wc} GROUP BY c.recipient_id
      ORDER BY off_hours_contacts DESC, c.recipient_id""")
    out["by_pair"] = db.df(f"""
      SELECT c.sender_id, c.recipient_id, count(*) FILTER (WHERE NOT c.is_auto) AS contacts,
             count(*) FILTER (WHERE c.off_hours) AS off_hours_contacts,
             count(*) FILTER (WHERE c.off_hours AND c.holdable) AS holdable_contacts,
             bool_or(c.from_manager) AS manager_pair,
             coalesce(max(r.n), 0) AS after_hours_replies
      FROM pol_contact c
      LEFT JOIN (SELECT sender_id, recipient_id, count(*) AS n FROM pol_replies WHERE {w}
                 GROUP BY sender_id, recipient_id) r
        ON r.sender_id = c.sender_id AND r.recipient_id = c.recipient_id
      WHERE {wc} AND c.sender_id IS NOT NULL GROUP BY c.sender_id, c.recipient_id
      HAVING count(*) FILTER (WHERE c.off_hours) > 0
      ORDER BY off_hours_contacts DESC, c.sender_id, c.recipient_id""")
    out["manager"] = db.df(f"""
      SELECT sender_id AS manager_id, recipient_id AS report_id,
             count(*) AS off_hours_contacts, min(r_local_ts) AS first_local, max(r_local_ts) AS last_local
      FROM pol_contact WHERE {w} AND off_hours AND from_manager GROUP BY ALL
      ORDER BY off_hours_contacts DESC, manager_id, report_id""")
    out["replies"] = db.df(f"""
      SELECT sender_id, recipient_id, count(*) AS after_hours_replies,
             median(epoch(reply_utc) - epoch(sent_utc)) / 60.0 AS median_reply_minutes
      FROM pol_replies WHERE {w} GROUP BY ALL ORDER BY after_hours_replies DESC, sender_id, recipient_id""")
    team = db.df(f"""
      WITH sizes AS (SELECT team, count(*) AS people FROM pol_sched WHERE is_internal AND team IS NOT NULL GROUP BY team)
      SELECT c.sender_team, c.recipient_team, count(*) FILTER (WHERE NOT is_auto) AS contacts,
             count(*) FILTER (WHERE off_hours) AS off_hours_contacts,
             ss.people AS sender_team_people, rs.people AS recipient_team_people
      FROM pol_contact c JOIN sizes ss ON ss.team = c.sender_team JOIN sizes rs ON rs.team = c.recipient_team
      WHERE {w} AND c.sender_internal GROUP BY ALL ORDER BY c.sender_team, c.recipient_team""")
    team["suppressed"] = too_small_rows(team["sender_team_people"], mgs) | too_small_rows(team["recipient_team_people"], mgs)
    team[["contacts", "off_hours_contacts"]] = team[["contacts", "off_hours_contacts"]].astype("Int64")
    team.loc[team["suppressed"], ["contacts", "off_hours_contacts"]] = pd.NA
    team["off_hours_share"] = (team["off_hours_contacts"] / team["contacts"]).astype("Float64")
    out["by_team"] = team
    mb = meeting_burden(db, config, start, end)
    if mb.empty:
        out["meetings"] = pd.DataFrame(columns=["person_id", "team", "meeting_hours", "outside_hours", "outside_share"])
        out["meeting_organizers"] = pd.DataFrame(columns=["person_id", "organizer_id", "outside_hours"])
    else:
        per = mb.groupby(["person_id", "team"], dropna=False, as_index=False)[["meeting_s", "outside_s"]].sum()
        per["meeting_hours"] = per["meeting_s"] / 3600.0
        per["outside_hours"] = per["outside_s"] / 3600.0
        per["outside_share"] = per["outside_s"] / per["meeting_s"]
        out["meetings"] = per[["person_id", "team", "meeting_hours", "outside_hours", "outside_share"]] \
            .sort_values(["outside_share", "person_id"], ascending=[False, True]).reset_index(drop=True)
        org = mb[mb["outside_s"] > 0].groupby(["person_id", "organizer_id"], dropna=False, as_index=False)["outside_s"].sum()
        org["outside_hours"] = org["outside_s"] / 3600.0
        out["meeting_organizers"] = org[["person_id", "organizer_id", "outside_hours"]] \
            .sort_values(["person_id", "outside_hours", "organizer_id"], ascending=[True, False, True]) \
            .reset_index(drop=True)
    return out


@dataclass(frozen=True)
class SenderView:
    """What one sender's messages did to other people's rest, over [start, end) UTC."""

    sender_id: str
    start: datetime | None
    end: datetime | None
    messages: int  # non-auto messages with at least one internal recipient
    off_hours_messages: int  # arrived outside the hours of at least one recipient
    holdable_messages: int  # off-hours for someone, and could have been held for everyone
    recipients_reached: int  # distinct recipients reached off-hours
    samples: tuple[tuple[str, str, str], ...]  # (message_key, recipient_id, recipient local time)

    @property
    def holdable_share(self) -> float:
        return self.holdable_messages / self.off_hours_messages if self.off_hours_messages else 0.0

    def sentence(self) -> str:
        if not self.messages:
            return "You sent no messages to colleagues in this period."
        if not self.off_hours_messages:
            return f"All {self.messages} of your messages arrived within their recipients' hours."
        return (f"{self.off_hours_messages} of your {self.messages} messages arrived outside their "
                f"recipients' hours ({self.recipients_reached} people); "
                f"{self.holdable_share:.0%} of them could have been held to the next morning.")


def resolve_person_id(store: Store | PolicyDb, address: str) -> str:
    """person_id of an e-mail or alias (people.email, person_aliases), else the address lower-cased."""
    a = address.strip().lower()
    db = as_db(store).store
    pid = db.scalar("SELECT person_id FROM people WHERE lower(email) = ? OR person_id = ? LIMIT 1", [a, a])
    if pid is None and db.columns("person_aliases"):  # a folder of exported Parquet tables has none
        pid = db.scalar("SELECT person_id FROM person_aliases WHERE lower(alias) = ? LIMIT 1", [a])
    return pid or a


def sender_view(store: Store | PolicyDb | str | Path, config: Config, sender: str, *,
                start: datetime | None = None, end: datetime | None = None,
                urgent_patterns: tuple[str, ...] = DEFAULT_URGENT, samples: int = 5,
                engine: str = "duckdb", spark_master: str = "local[*]") -> SenderView:
    """The "your messages" view for one sender (e-mail, alias or person_id)."""
    with open_db(store, engine, spark_master) as db:
        pid = resolve_person_id(db, sender)
        build_contacts(db, config, urgent_patterns=urgent_patterns)
        w, who = _window(start, end, "sent_utc"), _sql_str(pid)
        row = db.rows(f"""
          WITH per AS (
            SELECT message_key, bool_or(off_hours) AS off, bool_and(holdable OR NOT off_hours) AS hold
            FROM pol_contact WHERE sender_id = {who} AND NOT is_auto AND {w} GROUP BY message_key)
          SELECT count(*), count(*) FILTER (WHERE off), count(*) FILTER (WHERE off AND hold),
                 (SELECT count(DISTINCT recipient_id) FROM pol_contact WHERE sender_id = {who} AND off_hours AND {w})
          FROM per""")[0]
        rows = db.rows(f"""
          SELECT message_key, recipient_id, strftime(r_local_ts, '%Y-%m-%d %H:%M') FROM pol_contact
          WHERE sender_id = {who} AND off_hours AND {w}
          ORDER BY sent_utc, recipient_id, message_key LIMIT {int(samples)}""")
    return SenderView(pid, start, end, row[0], row[1], row[2], row[3], tuple(tuple(r) for r in rows))
