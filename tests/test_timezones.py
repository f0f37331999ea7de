"""tz_offsets: the offset in force at every instant, as zoneinfo says, across DST."""

from __future__ import annotations

from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worklife.timezones import resolve_zone, tz_offsets_table, zone_offsets

ZONES = ["Europe/Paris", "America/Los_Angeles", "Australia/Sydney", "America/Santiago",
         "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "UTC"]


@lru_cache(maxsize=None)
def _rows_2024_2025(tz: str):
    return zone_offsets(tz, date(2024, 1, 1), date(2025, 12, 31))


def offset_from_table(rows, t: datetime) -> int:
    hits = [r for r in rows if r[1] <= t < r[2]]
    assert len(hits) == 1, f"{t} matched {len(hits)} rows"
    return hits[0][3]


@pytest.mark.parametrize("tz", ZONES)
@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(min_value=0, max_value=2 * 366 * 86400))
def test_table_offset_equals_zoneinfo_at_every_instant(tz, seconds):
    rows = _rows_2024_2025(tz)
    t = datetime(2024, 1, 1) + timedelta(seconds=seconds)
    expected = t.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).utcoffset().total_seconds()
    assert offset_from_table(rows, t) == expected


@pytest.mark.parametrize(
    "tz, before, after, at",
    [
        ("Europe/Paris", 3600, 7200, datetime(2025, 3, 30, 1, 0)),
        ("Australia/Sydney", 39600, 36000, datetime(2025, 4, 5, 16, 0)),
        ("America/Los_Angeles", -28800, -25200, datetime(2025, 3, 9, 10, 0)),
    ],
    ids=["paris-spring-forward", "sydney-autumn-back", "los-angeles-spring-forward"],
)
def test_transition_found_to_the_second(tz, before, after, at):
    rows = zone_offsets(tz, date(2025, 1, 1), date(2025, 6, 30))
    assert offset_from_table(rows, at - timedelta(seconds=1)) == before
    assert offset_from_table(rows, at) == after


def test_rows_cover_all_time_without_gaps():
    table = tz_offsets_table(["Europe/Lisbon", "Asia/Kolkata"], date(2025, 1, 1), date(2025, 12, 31))
    rows = table.to_pylist()
    for tz in ("Europe/Lisbon", "Asia/Kolkata"):
        mine = [r for r in rows if r["tz"] == tz]
        assert mine[0]["valid_from_utc"] == datetime(1900, 1, 1)
        assert mine[-1]["valid_to_utc"] == datetime(2200, 1, 1)
        for a, b in zip(mine, mine[1:]):
            assert a["valid_to_utc"] == b["valid_from_utc"]


@pytest.mark.parametrize(
    "name, expected",
    [("W. Europe Standard Time", "Europe/Berlin"), ("India Standard Time", "Asia/Calcutta"),
     ("Europe/Madrid", "Europe/Madrid"), ("Mars/Olympus_Mons", None), ("", None)],
)
def test_resolve_zone_accepts_iana_and_windows_names(name, expected):
    assert resolve_zone(name) == expected
