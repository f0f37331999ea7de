"""Builders for hand-made stores used by the metrics tests (synthetic people only)."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone

from worklife.store import Store
from worklife.timezones import refresh_tz_offsets

_n = itertools.count()


def utc(text: str) -> datetime:
    """'2025-03-10 09:00' (UTC) -> aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def naive(text: str) -> datetime:
    return datetime.fromisoformat(text)


def person(store: Store, pid: str, tz: str | None = "UTC", team: str = "Team A", start: str | None = "09:00",
           end: str | None = "17:00", workdays: str | None = "Mon-Fri", jurisdiction: str | None = "",
           internal: bool = True, level: str = "L1") -> str:
    store.upsert("people", [{
        "person_id": pid, "email": pid, "display_name": pid.split("@")[0], "tz": tz,
        "work_start": start, "work_end": end, "workdays": workdays, "team": team, "level": level,
        "jurisdiction": jurisdiction, "is_internal": internal, "manager_id": None,
        "defaults_used": None, "source": "test"}], update=True)
    return pid


def meeting(store: Store, start: str, end: str, organizer: str, attendees: dict[str, str],
            title: str = "Meeting", status: str = "confirmed", transp: str = "opaque",
            all_day: bool = False, recurring: bool = False, key: str | None = None) -> str:
    """attendees: person_id -> response (organizer is added with 'organizer' unless listed)."""
    key = key or f"m{next(_n)}"
    store.upsert("meetings", [{
        "meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": naive(start),
        "end_utc": naive(end), "all_day": all_day, "status": status, "transp": transp,
        "show_as": None, "organizer_id": organizer, "title": title, "is_recurring": recurring,
        "series_id": None, "source": "test", "source_ref": None}])
    rows = [{"meeting_key": key, "person_id": organizer, "response": "organizer", "role": None,
             "is_organizer": True, "source": "test"}] if organizer not in attendees else []
    rows += [{"meeting_key": key, "person_id": p, "response": r, "role": None,
              "is_organizer": p == organizer, "source": "test"} for p, r in attendees.items()]
    store.upsert("meeting_attendees", rows)
    return key


def message(store: Store, at: str, sender: str, to: list[str] = (), cc: list[str] = (),
            bcc: list[str] = (), channel: str = "email", subject: str = "Hello",
            auto: bool = False, key: str | None = None) -> str:
    key = key or f"x{next(_n)}"
    store.upsert("messages", [{
        "message_key": key, "message_id": key, "channel": channel, "sender_id": sender,
        "sent_utc": naive(at), "thread_id": None, "in_reply_to": None,
        "subject_or_channel": subject, "is_auto": auto, "source": "test", "source_ref": None}])
    rows = [{"message_key": key, "person_id": p, "kind": k}
            for k, ps in (("to", to), ("cc", cc), ("bcc", bcc)) for p in ps]
    if rows:
        store.upsert("message_recipients", rows)
    return key


def commit(store: Store, at: str, who: str) -> None:
    key = f"c{next(_n)}"
    store.upsert("outcomes", [{"outcome_key": key, "person_id": who, "at_utc": naive(at),
                               "kind": "commit", "ref": key, "title": "change"}])


def finish(store: Store) -> Store:
    refresh_tz_offsets(store, pad_days=30)
    return store


def two_person_store(path, message_at: str = "2025-03-05T15:00:00Z") -> None:
    """A store file of two people (Paris, New York), one meeting and one e-mail between them."""
    from worklife.store import connect

    a, b = "alice@example.com", "bob@example.com"
    with connect(path) as store:
        person(store, a, "Europe/Paris")
        person(store, b, "America/New_York")
        meeting(store, "2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z", a, {b: "accepted"})
        message(store, message_at, a, to=[b])
        finish(store)


def stored_rows(store: Store, people: bool = False) -> dict[str, list[tuple]]:
    """The stored results row by row, without the settings fingerprint and watermark
    (``metric_days``, ``metric_weeks``; with ``people``, ``metric_people`` too)."""
    out = {}
    for t, key in (("metric_days", "person_id, day"), ("metric_weeks", "person_id, week_day")):
        cols = [c for c in store.con.execute(f"SELECT * FROM {t} LIMIT 0").df().columns
                if c not in ("settings_fp", "watermark")]
        out[t] = store.con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY {key}").fetchall()
    if people:
        out["metric_people"] = store.con.execute("SELECT * FROM metric_people ORDER BY person_id").fetchall()
    return out


def assert_equals_full_run(store: Store, config) -> None:
    """The stored rows (and fingerprints) equal those of one full run on the same store,
    row for row (the oracle of every incremental test); the store keeps the full run's."""
    from worklife.metrics.results import refresh

    got = stored_rows(store, people=True)
    refresh(store, config, full=True)
    want = stored_rows(store, people=True)
    for t in want:
        assert len(got[t]) == len(want[t]) > 0, t
        diff = [(a, b) for a, b in zip(got[t], want[t]) if a != b]
        assert not diff, f"{t}: {len(diff)} rows differ, first: {diff[0]}"
