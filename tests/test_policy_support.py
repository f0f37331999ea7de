"""A tiny hand-built organisation for the policy and boundary tests (imported by them).

People are obviously synthetic (``user07@example.com``, "Test Person 07"). Instants are
given as local wall times in an explicit zone and stored as UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from worklife.store import Store
from worklife.timezones import refresh_tz_offsets


def at(text: str, tz: str) -> datetime:
    """'2025-03-04 22:30' in zone ``tz`` -> aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def utc_naive(t: datetime) -> datetime:
    return t.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


class Org:
    """Adds people, messages, meetings and commits to a store; ``done()`` refreshes tz_offsets."""

    def __init__(self, store: Store):
        self.store = store
        self._n = count(1)
        self._rows: dict[str, list[dict]] = {}

    def _add(self, table: str, rows: list[dict]) -> None:
        self._rows.setdefault(table, []).extend(rows)

    def person(self, n: int, tz: str = "Europe/Lisbon", jurisdiction: str | None = "PT", team: str = "Team A",
               manager: int | None = None, level: str | None = None, hours: str = "09:00-17:00",
               workdays: str = "Mon-Fri") -> str:
        pid = f"user{n:02d}@example.com"
        start, end = hours.split("-")
        self._add("people", [{
            "person_id": pid, "email": pid, "display_name": f"Test Person {n:02d}", "tz": tz,
            "work_start": start, "work_end": end, "workdays": workdays,
            "manager_id": f"user{manager:02d}@example.com" if manager else None, "team": team,
            "level": level, "jurisdiction": jurisdiction, "is_internal": True}])
        return pid

    def message(self, sender: str, to: list[str] | str, when: datetime, *, subject: str = "Test subject",
                thread: str | None = None, reply_to: str | None = None, channel: str = "email",
                auto: bool = False, kind: str = "to") -> str:
        key = f"m{next(self._n):04d}"
        self._add("messages", [{
            "message_key": key, "message_id": f"<{key}@example.com>", "channel": channel,
            "sender_id": sender, "sent_utc": utc_naive(when), "thread_id": thread,
            "in_reply_to": f"<{reply_to}@example.com>" if reply_to else None,
            "subject_or_channel": subject, "is_auto": auto, "source": "test", "source_ref": key}])
        rcpts = [to] if isinstance(to, str) else to
        self._add("message_recipients", [{"message_key": key, "person_id": r, "kind": kind} for r in rcpts])
        return key

    def meeting(self, organizer: str, attendees: list[str], start: datetime, hours: float = 1.0,
                title: str = "Test meeting") -> str:
        key = f"e{next(self._n):04d}"
        s = utc_naive(start)
        self._add("meetings", [{
            "meeting_key": key, "uid": key, "recurrence_id": "", "start_utc": s,
            "end_utc": s + timedelta(hours=hours), "all_day": False, "status": "confirmed",
            "transp": "opaque", "organizer_id": organizer, "title": title, "is_recurring": False}])
        rows = [{"meeting_key": key, "person_id": organizer, "response": "organizer", "is_organizer": True}]
        rows += [{"meeting_key": key, "person_id": a, "response": "accepted", "is_organizer": False}
                 for a in attendees]
        self._add("meeting_attendees", rows)
        return key

    def commit(self, person: str, when: datetime) -> str:
        key = f"c{next(self._n):04d}"
        self._add("outcomes", [{"outcome_key": key, "person_id": person, "at_utc": utc_naive(when),
                                        "kind": "commit", "ref": key}])
        return key

    def workday(self, person: str, day: str, tz: str, start: str = "09:00", end: str = "17:00") -> None:
        """Commits every hour from ``start`` to ``end`` local on ``day`` (end inclusive; may pass midnight)."""
        t, stop = at(f"{day} {start}", tz), at(f"{day} {end}", tz)
        if stop <= t:
            stop += timedelta(days=1)
        while t < stop:
            self.commit(person, t)
            t += timedelta(hours=1)
        self.commit(person, stop)

    def done(self) -> Org:
        """Write everything added so far (one batch per table) and refresh tz_offsets."""
        for table, rows in self._rows.items():
            self.store.upsert(table, rows)
        self._rows = {}
        refresh_tz_offsets(self.store)
        return self


def boss_and_worker_store(path) -> None:
    """A store file at ``path``: person 1 manages person 2 and mails them at 22:00 and 10:00 Lisbon time."""
    from worklife.store import connect

    store = connect(path)
    org = Org(store)
    boss, worker = org.person(1), org.person(2, manager=1)
    org.message(boss, worker, at("2025-03-04 22:00", "Europe/Lisbon"))
    org.message(boss, worker, at("2025-03-05 10:00", "Europe/Lisbon"))
    org.done()
    store.close()


def test_org_builder_stores_utc_instants(store):
    org = Org(store)
    a = org.person(1)
    org.commit(a, at("2025-07-01 09:00", "Europe/Lisbon"))
    org.done()
    assert store.con.execute("SELECT at_utc FROM outcomes").fetchone()[0] == datetime(2025, 7, 1, 8, 0)
