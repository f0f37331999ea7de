"""Working calendars: hours, workdays, holidays, fallbacks."""

from __future__ import annotations

from datetime import date

import pytest

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.workcal import (
    holiday_rows,
    is_public_holiday,
    parse_hhmm,
    parse_workdays,
    resolve_person,
    workdays_mask,
)


@pytest.mark.parametrize(
    "text, days",
    [("Mon-Fri", {0, 1, 2, 3, 4}), ("Sun-Thu", {6, 0, 1, 2, 3}), ("Mon,Wed,Fri", {0, 2, 4}),
     ("Mon-Wed,Fri", {0, 1, 2, 4}), ("sat-sun", {5, 6})],
)
def test_parse_workdays(text, days):
    assert parse_workdays(text) == frozenset(days)


def test_workdays_mask_is_monday_first():
    assert workdays_mask("Sun-Thu") == "1111001"


@pytest.mark.parametrize("bad", ["Funday", "Mon-Xyz"])
def test_bad_workdays_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="invalid workdays"):
        parse_workdays(bad)


@pytest.mark.parametrize("text, seconds", [("09:00", 32400), ("18:30", 66600), ("24:00", 86400)])
def test_parse_hhmm(text, seconds):
    assert parse_hhmm(text) == seconds


@pytest.mark.parametrize("bad", ["9", "25:00", "ab:cd"])
def test_bad_time_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        parse_hhmm(bad)


def test_missing_fields_fall_back_and_are_recorded():
    s = resolve_person({"person_id": "user01@example.com", "tz": "Asia/Kolkata", "work_start": ""}, Config())
    assert s.tz == "Asia/Kolkata"
    assert s.work_start_s == 9 * 3600 and s.work_end_s == 17 * 3600
    assert set(s.defaults_used) == {"work_start", "work_end", "workdays", "jurisdiction"}


def test_unknown_zone_falls_back_to_default():
    s = resolve_person({"person_id": "x", "tz": "Not/AZone"}, Config({"defaults.tz": "Europe/Paris"}))
    assert s.tz == "Europe/Paris" and "tz" in s.defaults_used


def test_windows_zone_name_is_resolved():
    assert resolve_person({"person_id": "x", "tz": "Romance Standard Time"}, Config()).tz == "Europe/Paris"


@pytest.mark.parametrize(
    "jurisdiction, day, expected",
    [("FR", date(2025, 7, 14), True), ("FR", date(2025, 7, 15), False),
     ("CA-ON", date(2025, 2, 17), True), ("CA", date(2025, 2, 17), False),
     ("AU-NSW", date(2025, 4, 21), True), ("", date(2025, 12, 25), False)],
    ids=["fr-bastille", "fr-ordinary", "ontario-family-day", "canada-national-no-family-day",
         "nsw-easter-monday", "no-jurisdiction"],
)
def test_public_holidays_by_jurisdiction(jurisdiction, day, expected):
    assert is_public_holiday(jurisdiction, day) is expected


def test_holiday_is_not_a_workday():
    s = resolve_person({"person_id": "x", "jurisdiction": "FR"}, Config())
    assert not s.is_workday(date(2025, 7, 14))
    assert s.is_workday(date(2025, 7, 15))


def test_holiday_rows_cover_each_jurisdiction():
    rows = holiday_rows(["FR", "PT"], date(2025, 1, 1), date(2025, 1, 1))
    assert {r[0] for r in rows} == {"FR", "PT"}
