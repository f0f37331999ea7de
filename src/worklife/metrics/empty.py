"""Why a store yields no person-weeks, in words a user can act on (``metrics`` and ``report`` say it)."""

from __future__ import annotations

from worklife.store import Store


def _count(store: Store, sql: str) -> int:
    return int(store.scalar(sql))


def measured_people(store: Store) -> int:
    """Internal people who get person-weeks (``people.is_measured``; all internal ones in older stores)."""
    has_flag = _count(store, "SELECT count(*) FROM information_schema.columns "
                             "WHERE table_name = 'people' AND column_name = 'is_measured'")
    who = "coalesce(is_internal, TRUE)" + (" AND coalesce(is_measured, TRUE)" if has_flag else "")
    return _count(store, f"SELECT count(*) FROM people WHERE {who}")


def why_no_person_weeks(store: Store, label: str = "this store") -> str:
    """One sentence, starting with ``label`` (e.g. the store's path), saying why and what to do."""
    people = measured_people(store)
    activity = sum(_count(store, f"SELECT count(*) FROM {t}") for t in ("meetings", "messages"))
    outcomes = _count(store, "SELECT count(*) FROM outcomes")
    if not activity and outcomes:
        return (f"{label} holds only outcomes ({outcomes:,} commits, pull requests or tasks), no meetings or "
                "messages: metrics need a calendar, mailbox or chat export; `worklife digest` reports outcomes")
    if not people and not activity:
        return (f"{label} is empty: it holds no meetings or messages yet; ingest a mailbox, calendar or chat "
                "export first (`worklife ingest SOURCE --db FILE`)")
    if not people:
        return (f"{label} holds activity but no measured person: give --owner EMAIL at ingest or a people file "
                "(`worklife ingest people.csv --db FILE`)")
    if not activity:
        return f"{label} holds {people:,} people but no meetings or messages: ingest their activity"
    return (f"{label}: none of the {people:,} measured people has activity that counts (mail or chat they "
            "received or sent, meetings with at least metrics.meeting_min_people people they did not decline; "
            "events without attendees are appointments, not meetings)")
