"""Make every date-time of a parsed VEVENT exact before expansion (private to ``ics``).

icalendar resolves a ``TZID`` to zoneinfo when it knows the name, else to the file's
own ``VTIMEZONE`` definition, else leaves the time naive. ``settle`` then:

- maps every ``TZID`` that ``worklife.timezones.resolve_zone`` knows (IANA names and
  Windows names such as ``W. Europe Standard Time`` -> ``Europe/Berlin``) to zoneinfo,
  even when the file carries a ``VTIMEZONE`` for it: Outlook writes only the current
  year's rule into its definitions, zoneinfo knows the history;
- keeps the file's ``VTIMEZONE`` for names it does not know (``Customized Time Zone``);
- gives floating times (no zone, RFC 5545 form 1) and unknown ``TZID``s without a
  definition the calendar owner's zone, and says so in a note.

Dates (all-day values) are left alone.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from icalendar.prop import vDDDLists, vDDDTypes

from worklife.timezones import resolve_zone

SINGLE = ("DTSTART", "DTEND", "RECURRENCE-ID")
LISTS = ("EXDATE", "RDATE")


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The zoneinfo zone for an IANA name (cached)."""
    return ZoneInfo(name)


def fix_time(value: Any, tzid: Any, owner_zone: ZoneInfo, owner_tz: str, notes: set[str]) -> Any:
    """A DTSTART/DTEND/RDATE value in its zone: TZID resolved, else the owner's zone (said in ``notes``)."""
    if isinstance(value, tuple):  # an RDATE period (start, end|duration)
        return tuple(fix_time(v, tzid, owner_zone, owner_tz, notes) for v in value)
    if not isinstance(value, datetime):
        return value
    if tzid:
        iana = resolve_zone(str(tzid))
        if iana is not None:
            if getattr(value.tzinfo, "key", None) == iana:
                return value
            return value.replace(tzinfo=zone(iana))
        if value.tzinfo is not None:  # defined by the file's VTIMEZONE
            return value
        notes.add(f"unknown TZID {str(tzid)!r} without VTIMEZONE: times taken in {owner_tz} "
                  "(the calendar owner's zone)")
        return value.replace(tzinfo=owner_zone)
    if value.tzinfo is None:
        notes.add(f"floating times taken in {owner_tz} (the calendar owner's zone)")
        return value.replace(tzinfo=owner_zone)
    return value


def settle(ev: Any, owner_zone: ZoneInfo, owner_tz: str) -> set[str]:
    """Rewrite the date-times of ``ev`` in place (see the module docstring); return notes."""
    notes: set[str] = set()
    for name in SINGLE:
        prop = ev.get(name)
        if prop is None:
            continue
        new = fix_time(prop.dt, prop.params.get("TZID"), owner_zone, owner_tz, notes)
        if new is not prop.dt:
            replaced = vDDDTypes(new)
            replaced.params = prop.params
            ev[name] = replaced
    for name in LISTS:
        value = ev.get(name)
        if value is None:
            continue
        lists = value if isinstance(value, list) else [value]
        out, changed = [], False
        for lst in lists:
            tzid = lst.params.get("TZID")
            dts = [fix_time(d.dt, tzid, owner_zone, owner_tz, notes) for d in lst.dts]
            if any(new is not old.dt for new, old in zip(dts, lst.dts)):
                replaced = vDDDLists(dts)
                replaced.params = lst.params
                out.append(replaced)
                changed = True
            else:
                out.append(lst)
        if changed:
            ev[name] = out if isinstance(value, list) else out[0]
    return notes
