"""The next working window of a recipient, as a UTC instant.

A recipient's working windows are, on each local *workday* (one of their workdays
that is not a public holiday of their jurisdiction), the local interval
``[work_start, work_end)`` minus their personal quiet hours. ``next_window(s, at)``
returns ``at`` itself when ``at`` lies inside a window, else the start of the next one.

Wall-clock rules (local times are turned into instants with ``zoneinfo``):

- **DST gap** (spring forward): a local time that does not exist on that day means the
  first instant that exists after the gap. A window starting at 02:30 on a day whose
  clocks jump from 02:00 to 03:00 starts at 03:00 local, the transition instant.
- **DST fold** (fall back): a local time that occurs twice means its first occurrence
  (``fold=0``). The repeated hour is not a second window.
- Offsets of 30 and 45 minutes (Asia/Kolkata +05:30, Asia/Kathmandu +05:45) need nothing
  special: all arithmetic is done on instants, never on hour numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from worklife.errors import ConfigError, GuardError
from worklife.guard.clock import require_aware
from worklife.workcal import WorkSchedule, parse_hhmm

SEARCH_DAYS = 800  # how far ahead (local days) a window is looked for before giving up
DAY_S = 86400


@dataclass(frozen=True)
class RecipientSchedule:
    """A recipient's working calendar plus their personal quiet hours.

    ``quiet`` holds local (start_s, end_s) intervals in seconds after midnight, during
    which nothing is delivered even on a workday (e.g. a lunch break, school run).
    """

    address: str
    work: WorkSchedule
    quiet: tuple[tuple[int, int], ...] = ()

    @property
    def tz(self) -> str:
        return self.work.tz

    @property
    def person_id(self) -> str:
        return self.work.person_id

    @property
    def jurisdiction(self) -> str:
        return self.work.jurisdiction


def parse_quiet_hours(text: str | None) -> tuple[tuple[int, int], ...]:
    """'12:00-13:00, 22:00-07:00' -> local (start_s, end_s) intervals; a range that ends
    before it starts wraps past midnight and is split in two."""
    out: list[tuple[int, int]] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = part.split("-")
        except ValueError:
            raise ConfigError(f"invalid quiet hours {part!r}; expected HH:MM-HH:MM") from None
        start, end = parse_hhmm(a), parse_hhmm(b)
        if start == end:
            continue
        if end > start:
            out.append((start, end))
        else:
            out.extend([(start, DAY_S), (0, end)])
    return tuple(sorted(out))


@lru_cache(maxsize=512)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local_to_utc(tz: str, day: date, seconds: int) -> datetime:
    """The UTC instant of local wall time ``day`` + ``seconds`` in ``tz`` (gap and fold rules above)."""
    zone = _zone(tz)
    naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
    first = naive.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        return utc  # exists; fold=0 is the first occurrence when ambiguous
    # In a gap: fold=1 reads it with the offset after the transition (an earlier
    # instant), fold=0 with the offset before (a later one). The transition instant
    # lies between; find it to the second by bisection.
    lo = int(naive.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    hi = int(utc.timestamp())
    if lo > hi:
        lo, hi = hi, lo
    while lo < hi:
        mid = (lo + hi) // 2
        local = datetime.fromtimestamp(mid, tz=UTC).astimezone(zone).replace(tzinfo=None)
        if local > naive:
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, tz=UTC)


def _local_segments(schedule: RecipientSchedule) -> list[tuple[int, int]]:
    """Working hours minus quiet hours, as local (start_s, end_s) intervals of one day."""
    segments = [(schedule.work.work_start_s, schedule.work.work_end_s)]
    for q0, q1 in schedule.quiet:
        nxt: list[tuple[int, int]] = []
        for s0, s1 in segments:
            if q1 <= s0 or q0 >= s1:
                nxt.append((s0, s1))
                continue
            if s0 < q0:
                nxt.append((s0, q0))
            if q1 < s1:
                nxt.append((q1, s1))
        segments = nxt
    return segments


def day_windows(schedule: RecipientSchedule | WorkSchedule, day: date) -> list[tuple[datetime, datetime]]:
    """The UTC [start, end) windows of local date ``day`` (empty on non-workdays and holidays)."""
    s = as_recipient(schedule)
    if not s.work.is_workday(day):
        return []
    out = []
    for a, b in _local_segments(s):
        start, end = local_to_utc(s.tz, day, a), local_to_utc(s.tz, day, b)
        if end > start:
            out.append((start, end))
    return out


def next_window(schedule: RecipientSchedule | WorkSchedule, at: datetime) -> datetime:
    """The first instant >= ``at`` inside one of the recipient's windows (UTC, aware).

    Returns ``at`` (in UTC) when it already is inside a window. Raises GuardError when
    the schedule has no window in the next ``SEARCH_DAYS`` days (e.g. no workdays).
    """
    s = as_recipient(schedule)
    at = require_aware(at)
    day = at.astimezone(_zone(s.tz)).date() - timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        for start, end in day_windows(s, day):
            if at < start:
                return start
            if at < end:
                return at
        day += timedelta(days=1)
    raise GuardError(f"{s.address}: no working window within {SEARCH_DAYS} days of {at.isoformat()}", 422)


def in_window(schedule: RecipientSchedule | WorkSchedule, at: datetime) -> bool:
    """True when ``at`` lies inside one of the recipient's working windows."""
    return next_window(schedule, at) == require_aware(at)


def local_iso(t: datetime, tz: str) -> str:
    """An instant as recipient-local ISO 8601 with its offset, e.g. '2026-03-09T09:00:00+01:00'."""
    return require_aware(t).astimezone(_zone(tz)).isoformat(timespec="seconds")


def as_recipient(schedule: RecipientSchedule | WorkSchedule) -> RecipientSchedule:
    if isinstance(schedule, RecipientSchedule):
        return schedule
    return RecipientSchedule(address=schedule.person_id, work=schedule)
