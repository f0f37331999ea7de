"""Bounded, lazy recurrence rules for recurring-ical-events (``Series.RecurrenceRules``).

recurring-ical-events asks dateutil for ``rule.between(start, stop)``, which builds the
whole list (and dateutil's cache keeps every occurrence it ever made): an endless
``FREQ=SECONDLY`` rule never returns, and a rule that can never occur
(``BYMONTH=2;BYMONTHDAY=30``) makes dateutil search day by day up to year 9999. Here:

- occurrences are drawn lazily (``iter(rule)``, no cache) and iteration stops at the
  first one after the window; a rule without COUNT starts at the last whole step of its
  period before the window (``_shift``), so a SECONDLY rule begun years ago costs
  nothing for the years before;
- dateutil's search never goes past the year after the window: ``_capped`` lets it see
  ``datetime.MAXYEAR`` as that year while it runs, so impossible rules end at once;
- every rule may produce at most ``MAX_STEPS`` instants (before and in the window), else
  ``ExpansionTooLong`` (the caller quarantines the series with that reason);
- RFC 5545 3.8.5.3: DTSTART is the first occurrence and COUNT includes it, also when
  DTSTART does not match the rule (recurring-ical-events adds it as an extra instance);
- a floating UNTIL against a DTSTART with a zone is read in DTSTART's zone (as libical);
- EXRULE (RFC 2445) removes its instances.
"""

from __future__ import annotations

import datetime as _dt
import types
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dateutil.rrule as _rr
from recurring_ical_events import Series
from recurring_ical_events.util import compare_greater, convert_to_datetime

MAX_STEPS = 200_000  # instants one rule may produce for one window (before it and inside it)
_SECONDS = {_rr.HOURLY: 3600, _rr.MINUTELY: 60, _rr.SECONDLY: 1}
_DAYS = {_rr.DAILY: 1, _rr.WEEKLY: 7}


class ExpansionTooLong(ValueError):
    """A rule needs more than ``MAX_STEPS`` instants to cover the window."""


_CAPPED: dict[int, types.SimpleNamespace] = {}


def _capped(maxyear: int) -> types.SimpleNamespace:
    """The ``datetime`` module as dateutil.rrule sees it, with MAXYEAR lowered."""
    ns = _CAPPED.get(maxyear)
    if ns is None:
        ns = _CAPPED[maxyear] = types.SimpleNamespace(**{k: getattr(_dt, k) for k in dir(_dt)
                                                           if not k.startswith("__")})
        ns.MAXYEAR = maxyear
    return ns


def bounded(it: Iterator[Any], maxyear: int) -> Iterator[Any]:
    """Values of a dateutil iterator that never searches past ``maxyear``."""
    capped = _capped(min(maxyear, _dt.MAXYEAR))
    while True:
        saved = _rr.datetime
        _rr.datetime = capped  # type: ignore[assignment]
        try:
            value = next(it)
        except StopIteration:
            return
        finally:
            _rr.datetime = saved  # type: ignore[assignment]
        yield value


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


def _shift(rule: _rr.rrule, lo: datetime) -> _rr.rrule:
    """The rule started at its last whole step before ``lo`` (same instants from there on).

    Only for rules without COUNT whose period is fixed in wall time (weekly or faster);
    dateutil's defaults taken from DTSTART (time of day, weekday) are kept by whole steps.
    """
    start = rule._dtstart
    freq, interval = rule._freq, rule._interval
    if rule._count is not None or start is None:
        return rule.replace(cache=False)
    gap = _naive(lo) - _naive(start)
    if freq in _SECONDS:
        step = timedelta(seconds=_SECONDS[freq] * interval)
    elif freq in _DAYS:
        step = timedelta(days=_DAYS[freq] * interval)
    else:
        return rule.replace(cache=False)
    steps = int(gap / step) - 1
    if steps <= 0:
        return rule.replace(cache=False)
    new_start = (_naive(start) + steps * step).replace(tzinfo=start.tzinfo)
    return rule.replace(dtstart=new_start, cache=False)


def _after(a: Any, b: Any) -> bool:
    """a > b, also when one is naive and the other aware (then as recurring-ical-events compares)."""
    try:
        return bool(a > b)
    except TypeError:
        return compare_greater(a, b)


def _never(rule: _rr.rrule) -> bool:
    """Whether BYSETPOS asks only for positions beyond the largest possible set of one period."""
    setpos = rule._bysetpos
    if not setpos:
        return False
    times = {_rr.SECONDLY: 1, _rr.MINUTELY: len(rule._bysecond or (0,)),
             _rr.HOURLY: len(rule._byminute or (0,)) * len(rule._bysecond or (0,))}
    freq = rule._freq
    if freq not in times:
        return False
    return min(abs(p) for p in setpos) > times[freq]


class BoundedRules(Series.RecurrenceRules):
    """``Series.RecurrenceRules`` whose expansion is lazy and bounded (see the module docstring)."""

    def __init__(self, core: Any):
        super().__init__(core)
        component = getattr(core, "component", None)
        raw = component.get("EXRULE") if component is not None else None
        self.exrules = [self.create_rule_with_start(r.to_ical().decode())
                        for r in (raw if isinstance(raw, list) else [raw] if raw is not None else [])]

    def create_rule_with_start(self, rule_string: str) -> _rr.rrule:
        return super().create_rule_with_start(self._utc_until(rule_string))

    def _utc_until(self, rule_string: str) -> str:
        """A floating ``UNTIL=YYYYMMDDTHHMMSS`` read in DTSTART's zone, written in UTC."""
        zone = getattr(self.start, "tzinfo", None)
        head, sep, tail = rule_string.partition("UNTIL=")
        if zone is None or not sep:
            return rule_string
        value, semi, rest = tail.partition(";")
        if len(value) != 15 or value.endswith("Z"):
            return rule_string
        try:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        except ValueError:
            return rule_string
        utc = local.astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"{head}UNTIL={utc}{semi}{rest}"

    def rrule_between(self, span_start: Any, span_stop: Any) -> Iterator[Any]:
        lo = convert_to_datetime(span_start, self.tzinfo)
        hi = convert_to_datetime(span_stop, self.tzinfo)
        excluded = self._excluded(lo, hi)
        for rule in self.rrules:
            for start in self._instants(rule, lo, hi):
                if start in excluded:
                    continue
                if rule.until is None or not compare_greater(start, rule.until):
                    yield start

    def _instants(self, rule: Any, lo: datetime, hi: datetime) -> Iterator[Any]:
        """Instants of one rule in [lo, hi], lazily, within MAX_STEPS."""
        maxyear = hi.year + 1
        if isinstance(rule, _rr.rruleset):  # RDATEs and DTSTART: a short explicit list
            it: Iterator[Any] = bounded(iter(rule), maxyear)
        elif _never(rule):
            return
        else:
            rule = self._count_dtstart(rule, maxyear)
            if rule is None:
                return
            it = bounded(iter(_shift(rule, lo)), maxyear)
        for n, start in enumerate(it):
            if n >= MAX_STEPS:
                raise ExpansionTooLong(f"the rule needs more than {MAX_STEPS:,} instants to reach the window "
                                       "(a very frequent rule or a very large COUNT)")
            if _after(start, hi):
                return
            if not _after(lo, start):
                yield start

    def _count_dtstart(self, rule: _rr.rrule, maxyear: int) -> _rr.rrule | None:
        """With COUNT and a DTSTART the rule does not produce, DTSTART is the first of COUNT."""
        count = rule._count
        if count is None or len(self.rrules) > 2:  # several RRULEs (deprecated): DTSTART may match another
            return rule
        first = next(bounded(iter(rule.replace(cache=False)), maxyear), None)
        if first is None or first == rule._dtstart:
            return rule
        if count <= 1:
            return None
        fixed = rule.replace(count=count - 1, cache=False)
        fixed.until, fixed.string = rule.until, getattr(rule, "string", "")  # type: ignore[attr-defined]
        return fixed

    def _excluded(self, lo: datetime, hi: datetime) -> set[Any]:
        out: set[Any] = set()
        for rule in self.exrules:
            out.update(self._instants(rule, lo, hi))
        return out


__all__ = ["MAX_STEPS", "BoundedRules", "ExpansionTooLong", "bounded"]
