"""The fast path: lone single events without building icalendar components.

A VEVENT whose UID occurs once in its file and that has no RRULE, RDATE or
RECURRENCE-ID needs no recurrence work. Its few kept lines are parsed with icalendar's
property layer directly — ``Contentline.parts()`` for the name and parameters (once per
distinct ``NAME;PARAMS`` head), ``vDDDTypes.from_ical`` for the value (with the
``TZID``, resolved through the file's VTIMEZONEs registered when the unit's calendar was
parsed) and ``vText.from_ical`` — which skips most of the cost of ``Calendar.from_ical``
for exports made mostly of single events. Times follow recurring-ical-events'
``EventAdapter``: DTEND, else DURATION, else one day for a date and zero length for a
date-time; an end before the start is swapped. X-WR-TIMEZONE matters for a single event
only when its times are floating: they take that zone (as ``x_wr_timezone`` does).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar.parser import Contentline
from icalendar.prop import vDDDTypes, vText
from recurring_ical_events.util import make_comparable

from worklife.ingest._ics_rows import Job, Result, emit, fields
from worklife.ingest._ics_zones import fix_time
from worklife.ingest.base import IngestContext, stable_hash

TIMES = ("DTSTART", "DTEND", "DURATION")
WANTED = ("DTS", "DTE", "DUR", "SUM")


@lru_cache(maxsize=4096)
def _head(head: str) -> tuple[str, str | None]:
    """(NAME, TZID) of a content line's name-and-parameters part, parsed by icalendar once
    per distinct head (``DTSTART;TZID=Europe/Berlin`` recurs across a whole export)."""
    name, params, _ = Contentline(head + ":x").parts()
    return name.upper(), params.get("TZID")


def _split(line: str) -> tuple[str, str]:
    """(name-and-parameters, value): at the first ':' outside a quoted parameter value."""
    colon = line.find(":")
    if colon < 0 or '"' not in line[:colon]:
        return (line, "") if colon < 0 else (line[:colon], line[colon + 1:])
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return line[:i], line[i + 1:]
    return line, ""


def _values(lines: tuple[str, ...]) -> dict[str, tuple[object, object]]:
    """name -> (parsed value, TZID) for the lines worklife reads; ValueError names the property."""
    out: dict[str, tuple[object, object]] = {}
    for line in lines:
        if line[:3].upper() not in WANTED:  # UID is known from the split; SEQUENCE is not needed
            continue
        head, value = _split(line)
        name, tzid = _head(head)
        if name in out:
            continue
        try:
            if name in TIMES:
                out[name] = (vDDDTypes.from_ical(value, timezone=tzid) if tzid else vDDDTypes.from_ical(value),
                             tzid)
            elif name == "SUMMARY":
                out[name] = (vText.from_ical(value), None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}: {exc}") from exc
    return out


def read_singles(job: Job, res: Result, ctx: IngestContext, owner_zone: ZoneInfo,
                 xwr_zone: ZoneInfo | None) -> None:
    """Rows for ``job.singles``; a bad event is quarantined at its line with the reason."""
    for line, uid, lines, side in job.singles:
        where = f"{job.source}:{line}"
        try:
            values = _values(lines)
            if "DTSTART" not in values:
                res.quarantine.append((where, "event has no DTSTART", "\n".join(lines)))
                continue
            notes: set[str] = set()
            times = {}
            for name in ("DTSTART", "DTEND"):
                if name in values:
                    value, tzid = values[name]
                    if xwr_zone is not None and not tzid and isinstance(value, datetime) and value.tzinfo is None:
                        value = value.replace(tzinfo=xwr_zone)
                    times[name] = fix_time(value, tzid, owner_zone, job.owner_tz, notes)
            start = times["DTSTART"]
            end = times.get("DTEND")
            if end is None:
                duration = values.get("DURATION", (None, None))[0]
                if isinstance(duration, timedelta):
                    if duration.seconds and not isinstance(start, datetime):
                        start = datetime(start.year, start.month, start.day, tzinfo=owner_zone)
                    end = start + duration
                else:
                    end = start if isinstance(start, datetime) else start + timedelta(days=1)
            start, end = make_comparable((start, end))
            if start > end:
                start, end = end, start
            for note in notes:
                res.notes[note] += 1
            if not uid:
                uid = "nouid-" + stable_hash(*lines)
                res.notes["events without UID got one derived from their content"] += 1
            summary = values.get("SUMMARY", (None, None))[0]
            emit(job, res, uid, "", start, end, fields(summary, side, job.owner, ctx, res), False, owner_zone)
        except Exception as exc:  # noqa: BLE001 - bad input must not stop the file
            res.quarantine.append((where, str(exc) if isinstance(exc, ValueError) else
                                   f"cannot read event {uid}: {type(exc).__name__}: {exc}", "\n".join(lines)))
