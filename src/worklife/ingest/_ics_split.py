"""Split an .ics file into parse units before icalendar sees it (private to ``ics``).

One pass over the file: lines are unfolded (RFC 5545 section 3.1) keeping the physical
line number where each logical line starts, and the structure is tracked with a stack
of ``BEGIN``/``END`` names. Values are not interpreted here; icalendar parses them later.
What comes out:

- the calendar-level properties (``X-WR-TIMEZONE``, ``X-WR-CALNAME``, ...);
- every ``VTIMEZONE`` block (each parse unit gets all of them, placed first, so that
  icalendar knows every zone before it reads a ``TZID``);
- one ``EventBlock`` per ``VEVENT`` with the line of its ``BEGIN:VEVENT``, its ``UID`` and
  whether it recurs. Only the properties worklife reads are kept (descriptions, alarms,
  attachments and conference data dominate parse time in real exports and are never
  stored); ``ORGANIZER``/``ATTENDEE``/``STATUS``/``TRANSP`` lines are kept apart, because
  the same lines recur across thousands of events and are parsed once each (icalendar's
  ``Contentline``);
- problems that concern the file rather than one event (empty, binary, not iCalendar,
  truncated) as ``(line, reason, excerpt)``.

Blocks of one ``UID`` (a series and its modified occurrences) are always kept together
when the file is cut into ``chunks`` for parallel parsing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

KEEP = frozenset({
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID",
    "SEQUENCE", "SUMMARY",
})
# Kept apart from the event text: the same lines recur across thousands of events, so
# each distinct line is parsed once (icalendar's Contentline, cached).
SIDE = frozenset({"ORGANIZER", "ATTENDEE", "STATUS", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS"})


@dataclass
class EventBlock:
    """One VEVENT as kept logical lines (without BEGIN/END)."""

    line: int  # physical line of BEGIN:VEVENT, 1-based
    uid: str
    lines: list[str]
    side: list[str] = field(default_factory=list)  # SIDE lines (people, status, transparency)
    recurs: bool = False  # has RRULE or RDATE
    override: bool = False  # has RECURRENCE-ID
    start_day: str | None = None  # YYYYMMDD of DTSTART, only to size the default window
    alone: bool = False  # the only block of its UID (set by SplitFile.chunks)

    def text(self) -> str:
        """The VEVENT for icalendar; SEQUENCE only matters when a UID has several versions."""
        lone = self.alone and not self.recurs and not self.override
        body = "".join(line + "\r\n" for line in self.lines if not (lone and line[:9].upper() == "SEQUENCE:"))
        return "BEGIN:VEVENT\r\n" + body + "END:VEVENT\r\n"


@dataclass
class SplitFile:
    """An .ics file cut into header, zones and event blocks."""

    header: list[str] = field(default_factory=list)
    timezones: list[str] = field(default_factory=list)  # each a BEGIN..END:VTIMEZONE text
    events: list[EventBlock] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # VTODO, VJOURNAL, ...

    def prefix(self) -> str:
        """``BEGIN:VCALENDAR``, the header and every zone: the start of each parse unit."""
        body = "".join(line + "\r\n" for line in self.header)
        return "BEGIN:VCALENDAR\r\n" + body + "".join(self.timezones)

    def header_value(self, name: str) -> str | None:
        for line in self.header:
            if _name(line) == name:
                return _value(line).strip() or None
        return None

    def chunks(self, size: int) -> Iterator[list[EventBlock]]:
        """Event blocks in groups of about ``size``, never splitting one UID."""
        by_uid: dict[str, list[EventBlock]] = {}
        for block in self.events:
            by_uid.setdefault(block.uid, []).append(block)
        chunk: list[EventBlock] = []
        for group in by_uid.values():
            group[0].alone = len(group) == 1
            chunk.extend(group)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _name(line: str) -> str:
    """Property name of a logical line, upper-cased (text before the first ';' or ':')."""
    colon = line.find(":")
    end = colon if colon >= 0 else len(line)
    semi = line.find(";", 0, end)
    return line[: semi if semi >= 0 else end].strip().upper()


def _value(line: str) -> str:
    """Value of a logical line: the text after the parameters (quoted ':' allowed)."""
    in_quotes = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ":" and not in_quotes:
            return line[i + 1:]
    return ""


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, note) for the raw bytes; (None, reason) when this is not text at all."""
    if not data.strip():
        return None, "empty file: no iCalendar data"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark (some Windows tools)
        try:
            return data.decode("utf-16"), "UTF-16 file"
        except UnicodeDecodeError:
            return None, "UTF-16 byte-order mark but not valid UTF-16"
    head = data[:8192]
    if b"\x00" in head:
        return None, "binary data, not an iCalendar file"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        note = f"not UTF-8 (byte {exc.start}); decoded as Windows-1252"
        return data.decode("cp1252", errors="replace"), note


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(physical line number, unfolded line) pairs."""
    start, parts = 0, []
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line[:1] in (" ", "\t") and parts:
            parts.append(line[1:])
            continue
        if parts:
            yield start, parts[0] if len(parts) == 1 else "".join(parts)
        start, parts = number, [line]
    if parts:
        yield start, parts[0] if len(parts) == 1 else "".join(parts)


def split(data: bytes) -> SplitFile:
    """Cut the bytes of one .ics file into a ``SplitFile`` (never raises on bad input)."""
    out = SplitFile()
    text, note = decode(data)
    if text is None:
        out.problems.append((1, note or "unreadable", data[:200].decode("latin-1")))
        return out
    if note:
        out.notes.append(note)
    stack: list[str] = []
    event: EventBlock | None = None
    tz_lines: list[str] | None = None
    seen_calendar = False
    for number, line in _logical_lines(text):
        if not line.strip():
            continue
        name = _name(line)
        if name == "BEGIN":
            comp = _value(line).strip().upper()
            if event is not None and len(stack) and stack[-1] == "VEVENT" and comp == "VEVENT":
                out.problems.append((event.line, f"truncated event: BEGIN:VEVENT at line {event.line} "
                                     f"has no END:VEVENT before line {number}", event.text()))
                stack.pop()
                event = None
            if not stack:
                if comp != "VCALENDAR":
                    out.problems.append((number, f"BEGIN:{comp} outside a VCALENDAR", line))
                else:
                    seen_calendar = True
            elif event is None and tz_lines is None and stack == ["VCALENDAR"]:
                if comp == "VEVENT":
                    event = EventBlock(line=number, uid="", lines=[])
                elif comp == "VTIMEZONE":
                    tz_lines = []
                else:
                    out.skipped[comp] += 1
            if tz_lines is not None:
                tz_lines.append(line)
            stack.append(comp)
            continue
        if name == "END":
            comp = _value(line).strip().upper()
            if comp not in stack:
                if len(stack) <= 1:
                    out.problems.append((number, f"END:{comp} without BEGIN:{comp}", line))
                    continue
                out.notes.append(f"line {number}: END:{comp} read as END:{stack[-1]}")
                comp = stack[-1]
            while stack and stack[-1] != comp:  # an inner component was never closed
                inner = stack.pop()
                if inner == "VEVENT" and event is not None:
                    out.problems.append((event.line, f"truncated event: BEGIN:VEVENT at line {event.line} "
                                         f"has no END:VEVENT", event.text()))
                    event = None
            stack.pop()
            if tz_lines is not None:
                tz_lines.append(line)
                if comp == "VTIMEZONE" and stack == ["VCALENDAR"]:
                    out.timezones.append("".join(t + "\r\n" for t in tz_lines))
                    tz_lines = None
            elif comp == "VEVENT" and event is not None and stack == ["VCALENDAR"]:
                out.events.append(event)
                event = None
            continue
        if event is not None and stack[-1] == "VEVENT":
            if name in SIDE:
                event.side.append(line)
            elif name in KEEP:
                event.lines.append(line)
                if name == "UID":
                    event.uid = _value(line).strip()
                elif name in ("RRULE", "RDATE"):
                    event.recurs = True
                elif name == "RECURRENCE-ID":
                    event.override = True
                elif name == "DTSTART" and event.start_day is None:
                    day = line.rpartition(":")[2].strip()[:8]
                    event.start_day = day if day.isdigit() else None
        elif tz_lines is not None:
            tz_lines.append(line)
        elif stack == ["VCALENDAR"]:
            out.header.append(line)
    if event is not None:
        out.problems.append((event.line, f"truncated file: BEGIN:VEVENT at line {event.line} "
                             "has no END:VEVENT", event.text()))
    if not seen_calendar and not out.events:
        first = text.lstrip().split("\n", 1)[0][:80]
        out.problems.append((1, f"not an iCalendar file: no BEGIN:VCALENDAR (starts with {first!r})",
                             text[:200]))
    elif stack:
        out.notes.append(f"truncated file: no END:{stack[0]}; every complete event was read")
    return out
