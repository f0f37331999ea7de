"""``load_into_store``: the org's canonical rows straight into a worklife Store.

This is what ingest of the raw files must reproduce (the round-trip test), and what the
metrics and policy tests use without file ingest. Instants become naive UTC TIMESTAMPs;
``source`` is ``synth`` and ``source_ref`` names the raw file the row comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import pandas as pd
import pyarrow as pa

from worklife.config import Config
from worklife.store import Store
from worklife.synth.model import Org
from worklife.timezones import refresh_tz_offsets


CANONICAL = ("people", "person_aliases", "meetings", "meeting_attendees", "messages", "message_recipients",
             "outcomes")


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.astype("int64"), unit="s").astype("datetime64[us]")


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)


def canonical_tables(org: Org) -> dict[str, pd.DataFrame]:
    """The canonical store rows of ``org`` as DataFrames keyed by table name."""
    return dict(_canonical(org))


def _canonical(org: Org) -> Iterator[tuple[str, pd.DataFrame]]:
    """(table, rows) one table at a time, so a loader holds one table's copy at a time."""
    p = org.people
    defaults = org.planted.get("defaults_used", {})
    people = p[["person_id", "email", "display_name", "tz", "work_start", "work_end", "workdays",
                "manager_id", "team", "level", "jurisdiction"]].copy()
    people["is_internal"] = True
    people["defaults_used"] = [",".join(defaults.get(x, [])) or None for x in p["person_id"]]
    people["source"] = "synth"
    yield "people", people
    yield "person_aliases", pd.DataFrame({"alias": p["slack_id"], "person_id": p["person_id"], "kind": "slack",
                                          "source": "synth"})
    m = org.meetings
    meetings = m[["meeting_key", "uid", "recurrence_id", "all_day", "status", "transp", "organizer_id",
                  "title", "is_recurring", "series_id"]].copy()
    meetings.insert(3, "start_utc", _ts(m["start_utc"]))
    meetings.insert(4, "end_utc", _ts(m["end_utc"]))
    meetings["show_as"] = m["transp"].map({"opaque": "busy", "transparent": "free"})
    meetings["source"] = "synth"
    meetings["source_ref"] = "calendars/" + m["organizer_id"].str.split("@").str[0] + ".ics"
    yield "meetings", meetings
    del meetings
    att = org.meeting_attendees[["meeting_key", "person_id", "response", "role", "is_organizer"]].copy()
    att["source"] = "synth"
    yield "meeting_attendees", att
    del att
    msg = org.messages
    messages = msg[["message_key", "message_id", "channel", "sender_id", "thread_id", "in_reply_to",
                    "subject_or_channel", "is_auto"]].copy()
    messages.insert(4, "sent_utc", _ts(msg["sent_utc"]))
    messages["source"] = "synth"
    messages["source_ref"] = msg["conv_id"].where(msg["channel"] == "chat", "mail")
    yield "messages", messages
    del messages
    yield "message_recipients", org.all_recipients()[["message_key", "person_id", "kind"]]
    c = org.commits
    yield "outcomes", pd.DataFrame({"outcome_key": c["outcome_key"], "person_id": c["person_id"],
                                    "at_utc": _ts(c["at_utc"]), "kind": "commit", "ref": c["outcome_key"],
                                    "title": c["title"], "project": "synth", "state": None, "url": None,
                                    "source": "synth", "source_ref": "git"})


def load_into_store(org: Org | Iterable[Org], store: Store,
                    progress: Callable[[Org], None] | None = None,
                    config: Config | None = None) -> dict[str, int]:
    """Insert every canonical row of ``org`` into ``store``; refresh ``tz_offsets``.

    ``org`` is one Org or the divisions of one (``generate_divisions``), loaded one at a
    time and one table at a time (memory: one division). Tables that are empty when the
    load starts get plain INSERTs (``Store.insert``: keys are org-wide unique by
    construction, and the primary key still checks); others are upserted (loading into
    a store that already holds rows changes nothing that is there). ``progress(division)``
    is called after each division. Returns rows inserted per table. Meeting titles, mail
    subjects and channel names are reduced as ingest reduces them (``privacy.keep_titles``,
    ``worklife.privacy.minimise``), so the org in the store is what ingest would give.
    """
    from worklife.privacy.minimise import minimise_frame

    counts: dict[str, int] = {}
    parts = iter([org]) if isinstance(org, Org) else iter(org)
    fresh: set[str] | None = None
    for part in parts:
        for table, df in _canonical(part):
            if fresh is None:
                fresh = {t for t in CANONICAL if store.count(t) == 0}
            data = _arrow(minimise_frame(store, config, table, df))
            del df
            inserted = store.insert(table, data) if table in fresh else store.upsert(table, data)[0]
            del data
            counts[table] = counts.get(table, 0) + inserted
        if progress:
            progress(part)
        del part
    refresh_tz_offsets(store)
    return counts
