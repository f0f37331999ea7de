"""Canonical rows from parsed events: the unit of work, responses, fields, emission.

Private to the iCalendar adapter; shared by the single-event fast path (``_ics_single``)
and the series path (``_ics_events``). Rows are plain tuples in ``MEETING_COLS`` /
``ATTENDEE_COLS`` order (cheap to send back from pool workers); ``_authoritative`` marks
the rows ``write_batch`` lets overwrite (the owner's own response, the organizer's copy).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar.parser import Contentline

from worklife.ingest.base import IngestContext

MEETING_COLS = ("meeting_key", "uid", "recurrence_id", "start_utc", "end_utc", "all_day", "status",
                "transp", "show_as", "organizer_id", "title", "is_recurring", "series_id", "source",
                "source_ref", "_authoritative")
ATTENDEE_COLS = ("meeting_key", "person_id", "response", "role", "is_organizer", "source",
                 "_authoritative")
PARTSTAT = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined",
            "NEEDS-ACTION": "needs-action", "DELEGATED": "declined"}
NOT_PEOPLE = {"ROOM", "RESOURCE"}


@dataclass(frozen=True)
class Job:
    """One parse unit of a file: whole UID groups as iCalendar text, and lone single events
    (one component, no recurrence) as their kept property lines."""

    source: str
    prefix: str  # BEGIN:VCALENDAR + header + zones
    events: tuple[str, ...]  # BEGIN..END:VEVENT texts
    lines: tuple[int, ...]  # line of each BEGIN:VEVENT in the file
    side: tuple[tuple[str, ...], ...]  # ORGANIZER/ATTENDEE/STATUS/TRANSP lines of each event
    singles: tuple[tuple[int, str, tuple[str, ...], tuple[str, ...]], ...]  # (line, UID, lines, side)
    owner: str | None  # person_id of the calendar's owner
    owner_tz: str  # IANA zone for floating and all-day times
    window: tuple[datetime, datetime]  # naive local datetimes [start, stop)
    max_occurrences: int


@dataclass
class Result:
    meetings: list[tuple] = field(default_factory=list)
    attendees: list[tuple] = field(default_factory=list)
    quarantine: list[tuple[str, str, str]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    read: int = 0


def recurrence_key(value: date | datetime) -> str:
    """RECURRENCE-ID as stored: UTC ``YYYY-MM-DDTHH:MM:SSZ``; dates and floating times as written."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def instant(value: date | datetime, owner_zone: ZoneInfo) -> datetime:
    """Naive UTC for an aware datetime; dates and naive times are local in the owner's zone."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=owner_zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=owner_zone)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


@lru_cache(maxsize=65536)
def side_line(line: str) -> tuple | str:
    """A side line parsed by icalendar's ``Contentline``; the error message when it cannot be.

    ORGANIZER/ATTENDEE give (name, address, CUTYPE, PARTSTAT, ROLE), the address being the
    value when it is an e-mail (``mailto:`` or bare), else the ``EMAIL`` parameter; STATUS,
    TRANSP and X-MICROSOFT-CDO-BUSYSTATUS give (name, upper-cased value).
    """
    try:
        name, params, value = Contentline(line).parts()
    except ValueError as exc:
        return str(exc)
    if name.upper() not in ("ORGANIZER", "ATTENDEE"):
        return (name.upper(), value.strip().upper())
    address = value.strip()
    if "@" not in address:
        address = str(params.get("EMAIL", "")).strip()
    return (name.upper(), address if "@" in address else None,
            str(params.get("CUTYPE", "INDIVIDUAL")).upper(),
            str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
            str(params.get("ROLE", "REQ-PARTICIPANT")).lower())


def _people(lines: list[tuple], owner: str | None, ctx: IngestContext, res: Result):
    """(organizer_id, [(person_id, response, role, is_organizer)]) for one component."""
    organizer = None
    rows: dict[str, tuple[str, str, bool]] = {}
    for parsed in lines:
        if len(parsed) != 5:
            continue
        name, address, cutype, partstat, role = parsed
        if address is None:
            res.notes[f"{name} without an e-mail address skipped"] += 1
            continue
        if name == "ORGANIZER":
            organizer = ctx.person_id(address)
        elif cutype not in NOT_PEOPLE:
            rows[ctx.person_id(address)] = (PARTSTAT.get(partstat, "needs-action"), role, False)  # type: ignore[index]
    if owner is not None and organizer is None and not rows:
        organizer = owner  # an event of one's own, with no guests
    limit = int(ctx.config.get("ingest.max_recipients", 100_000))
    if len(rows) > limit:  # a hostile guest list: the first ones kept, the cut noted
        res.notes[f"events with more than {limit:,} attendees cut to the first {limit:,} (ingest.max_recipients)"] += 1
        rows = dict(list(rows.items())[:limit])
    if organizer is not None:
        rows[organizer] = ("organizer", "chair", True)
    if owner is not None and owner not in rows:
        rows[owner] = ("needs-action", "req-participant", False)
        res.notes["events list no response for the calendar's owner; recorded as needs-action"] += 1
    return organizer, [(pid, *r) for pid, r in rows.items()]


def fields(summary: object, side: tuple[str, ...], owner: str | None,
            ctx: IngestContext, res: Result) -> tuple:
    """Per-component values shared by all its occurrences."""
    parsed, simple = [], {}
    for line in side:
        p = side_line(line)
        if isinstance(p, str):
            res.notes[f"unreadable property lines skipped ({p})"] += 1
        elif len(p) == 2:
            simple[p[0]] = p[1]
        else:
            parsed.append(p)
    status = simple.get("STATUS", "CONFIRMED").lower()
    status = status if status in ("confirmed", "tentative", "cancelled") else "confirmed"
    busy = simple.get("X-MICROSOFT-CDO-BUSYSTATUS")
    show_as = busy.lower() if busy else None
    transparent = simple.get("TRANSP", "OPAQUE") == "TRANSPARENT" or show_as == "free"
    show_as = show_as or ("free" if transparent else "busy")
    organizer, rows = _people(parsed, owner, ctx, res)
    return (status, "transparent" if transparent else "opaque", show_as, organizer,
            str(summary) if summary is not None else None, rows)


def emit(job: Job, res: Result, uid: str, rid: str, start, end, fields: tuple, recurring: bool,
          owner_zone: ZoneInfo) -> None:
    status, transp, show_as, organizer, title, people = fields
    key = f"{uid}|{rid}"
    all_day = not isinstance(start, datetime)
    ref = f"{job.source}#{uid}@{rid}" if rid else f"{job.source}#{uid}"
    authoritative = job.owner is not None and organizer == job.owner
    res.meetings.append((key, uid, rid, instant(start, owner_zone), instant(end, owner_zone), all_day,
                         status, transp, show_as, organizer, title, recurring, uid, job.source, ref,
                         authoritative))
    for pid, response, role, is_org in people:
        res.attendees.append((key, pid, response, role, is_org, job.source, pid == job.owner))


