"""Time-zone offsets as a table, so any SQL engine can turn UTC into local time.

``tz_offsets`` rows are (tz, valid_from_utc, valid_to_utc, utc_offset_s, is_dst): the
offset in force for ``valid_from_utc <= t < valid_to_utc``. Rows are generated from
``zoneinfo`` transitions for the span asked for, and the first and last rows are
stretched to 1900 and 2200 so that every instant finds exactly one row.

Windows zone names ("W. Europe Standard Time") are mapped to IANA names through
``WINDOWS_TO_IANA`` (the CLDR table's primary zones, territory 001).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pyarrow as pa

FAR_PAST = datetime(1900, 1, 1)
FAR_FUTURE = datetime(2200, 1, 1)

# CLDR windowsZones.xml, territory "001" (primary) mappings for the zones people use most.
WINDOWS_TO_IANA: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12", "UTC-11": "Etc/GMT+11",
    "Hawaiian Standard Time": "Pacific/Honolulu", "Alaskan Standard Time": "America/Anchorage",
    "Pacific Standard Time": "America/Los_Angeles", "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time": "America/Denver", "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago", "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina", "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time": "America/New_York", "US Eastern Standard Time": "America/Indianapolis",
    "Venezuela Standard Time": "America/Caracas", "Atlantic Standard Time": "America/Halifax",
    "SA Western Standard Time": "America/La_Paz", "Pacific SA Standard Time": "America/Santiago",
    "Newfoundland Standard Time": "America/St_Johns", "E. South America Standard Time": "America/Sao_Paulo",
    "Argentina Standard Time": "America/Buenos_Aires", "SA Eastern Standard Time": "America/Cayenne",
    "Montevideo Standard Time": "America/Montevideo", "UTC-02": "Etc/GMT+2",
    "Azores Standard Time": "Atlantic/Azores", "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "UTC": "Etc/UTC", "Coordinated Universal Time": "Etc/UTC", "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik", "Morocco Standard Time": "Africa/Casablanca",
    "W. Europe Standard Time": "Europe/Berlin", "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris", "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos", "GTB Standard Time": "Europe/Bucharest",
    "E. Europe Standard Time": "Europe/Chisinau", "Egypt Standard Time": "Africa/Cairo",
    "FLE Standard Time": "Europe/Kiev", "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg", "Jordan Standard Time": "Asia/Amman",
    "Arabic Standard Time": "Asia/Baghdad", "Turkey Standard Time": "Europe/Istanbul",
    "Arab Standard Time": "Asia/Riyadh", "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi", "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai", "Afghanistan Standard Time": "Asia/Kabul",
    "Pakistan Standard Time": "Asia/Karachi", "West Asia Standard Time": "Asia/Tashkent",
    "India Standard Time": "Asia/Calcutta", "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Katmandu", "Central Asia Standard Time": "Asia/Almaty",
    "Bangladesh Standard Time": "Asia/Dhaka", "Myanmar Standard Time": "Asia/Rangoon",
    "SE Asia Standard Time": "Asia/Bangkok", "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore", "W. Australia Standard Time": "Australia/Perth",
    "Taipei Standard Time": "Asia/Taipei", "Tokyo Standard Time": "Asia/Tokyo",
    "Korea Standard Time": "Asia/Seoul", "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin", "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney", "Tasmania Standard Time": "Australia/Hobart",
    "West Pacific Standard Time": "Pacific/Port_Moresby", "New Zealand Standard Time": "Pacific/Auckland",
    "Tonga Standard Time": "Pacific/Tongatapu", "Line Islands Standard Time": "Pacific/Kiritimati",
    "Chatham Islands Standard Time": "Pacific/Chatham",
}


def resolve_zone(name: str | None) -> str | None:
    """IANA name for an IANA or Windows zone name; None when unknown or empty."""
    if not name:
        return None
    name = name.strip()
    if name in WINDOWS_TO_IANA:
        name = WINDOWS_TO_IANA[name]
    return name if is_known_zone(name) else None


@lru_cache(maxsize=None)
def is_known_zone(name: str) -> bool:
    if name in ("UTC", "Etc/UTC"):
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _offset_s(zone: ZoneInfo, t: datetime) -> int:
    off = t.replace(tzinfo=timezone.utc).astimezone(zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _is_dst(zone: ZoneInfo, t: datetime) -> bool:
    d = t.replace(tzinfo=timezone.utc).astimezone(zone).dst()
    return bool(d and d.total_seconds() != 0)


def _transition_between(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """First instant in (lo, hi] whose offset differs from lo's; to the second."""
    base = (_offset_s(zone, lo), _is_dst(zone, lo))
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if (_offset_s(zone, mid), _is_dst(zone, mid)) == base:
            lo = mid
        else:
            hi = mid
    return hi


def zone_offsets(tz: str, start: date, end: date) -> list[tuple[str, datetime, datetime, int, bool]]:
    """Offset periods of ``tz`` covering [start, end], first/last stretched to 1900/2200."""
    zone = ZoneInfo(tz)
    t = datetime(start.year, start.month, start.day)
    stop = datetime(end.year, end.month, end.day) + timedelta(days=1)
    rows: list[tuple[str, datetime, datetime, int, bool]] = []
    period_start = FAR_PAST
    state = (_offset_s(zone, t), _is_dst(zone, t))
    step = timedelta(hours=12)
    while t < stop:
        nxt = t + step
        nstate = (_offset_s(zone, nxt), _is_dst(zone, nxt))
        if nstate != state:
            at = _transition_between(zone, t, nxt)
            rows.append((tz, period_start, at, state[0], state[1]))
            period_start = at
            state = (_offset_s(zone, at), _is_dst(zone, at))
            t = at
            continue
        t = nxt
    rows.append((tz, period_start, FAR_FUTURE, state[0], state[1]))
    return rows


def tz_offsets_table(zones: Iterable[str], start: date, end: date) -> pa.Table:
    """The ``tz_offsets`` table for ``zones`` over [start, end] (local dates), as Arrow."""
    rows: list[tuple[str, datetime, datetime, int, bool]] = []
    for tz in sorted(set(z for z in zones if z)):
        rows.extend(zone_offsets(tz, start, end))
    return pa.table(
        {
            "tz": pa.array([r[0] for r in rows], pa.string()),
            "valid_from_utc": pa.array([r[1] for r in rows], pa.timestamp("us")),
            "valid_to_utc": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "utc_offset_s": pa.array([r[3] for r in rows], pa.int32()),
            "is_dst": pa.array([r[4] for r in rows], pa.bool_()),
        }
    )


def refresh_tz_offsets(store, default_tz: str = "UTC", pad_days: int = 400) -> int:
    """Regenerate ``tz_offsets`` for every zone in ``people`` over the data span ± pad.

    Returns the number of rows written. Called after ingest and before metrics.
    """
    zones = {r[0] for r in store.rows(
        "SELECT DISTINCT tz FROM people WHERE tz IS NOT NULL")}
    zones = {z for z in zones if is_known_zone(z)} | {default_tz}
    span = store.data_span_utc()
    if span is None:
        today = date(2000, 1, 1)
        start, end = today, today
    else:
        start, end = span[0].date(), span[1].date()
    # a store may hold instants from before the ingest range existed: never let them overflow
    lo, hi = date(1900, 1, 1), date(2200, 12, 31)
    start, end = min(max(start, lo), hi), min(max(end, lo), hi)
    table = tz_offsets_table(zones, start - timedelta(days=pad_days), end + timedelta(days=pad_days))
    store.replace_table("tz_offsets", table)
    return table.num_rows


def all_zone_names() -> set[str]:
    return set(available_timezones())
