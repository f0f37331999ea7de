"""Working calendars: each person's hours, workdays and public holidays.

Shared by metrics (what is after hours), policy (rest periods) and the guard (next
working window). A person's row in ``people`` may leave any of tz, work_start,
work_end, workdays and jurisdiction empty; ``resolve_person`` fills them from the org
defaults of the config and records which fields fell back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays as pyholidays

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.timezones import resolve_zone

DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def parse_hhmm(text: str) -> int:
    """'09:30' -> seconds after local midnight (0..86400). '24:00' is allowed as an end."""
    try:
        hh, mm = text.strip().split(":")[:2]
        seconds = int(hh) * 3600 + int(mm) * 60
    except (ValueError, AttributeError):
        raise ConfigError(f"invalid local time {text!r}; expected HH:MM") from None
    if not 0 <= seconds <= 86400:
        raise ConfigError(f"invalid local time {text!r}; expected 00:00..24:00")
    return seconds


def parse_workdays(text: str) -> frozenset[int]:
    """'Mon-Fri', 'Sun-Thu', 'Mon,Wed,Fri' or 'Mon-Wed,Fri' -> ISO weekday indexes, Monday=0."""
    days: set[int] = set()
    try:
        for part in text.replace(" ", "").split(","):
            if not part:
                continue
            if "-" in part:
                a, b = (DAY_NAMES.index(x[:3].title()) for x in part.split("-"))
                i = a
                while True:
                    days.add(i)
                    if i == b:
                        break
                    i = (i + 1) % 7
            else:
                days.add(DAY_NAMES.index(part[:3].title()))
    except ValueError:
        raise ConfigError(f"invalid workdays {text!r}; expected e.g. Mon-Fri or Mon,Wed,Fri") from None
    return frozenset(days)


def workdays_mask(text: str) -> str:
    """'Mon-Fri' -> '1111100' (Monday first), a form SQL engines can index."""
    days = parse_workdays(text)
    return "".join("1" if i in days else "0" for i in range(7))


@dataclass(frozen=True)
class WorkSchedule:
    """One person's resolved working calendar. Times are local seconds after midnight."""

    person_id: str
    tz: str
    work_start_s: int
    work_end_s: int
    workdays: frozenset[int]
    jurisdiction: str
    defaults_used: tuple[str, ...]

    def is_workday(self, day: date) -> bool:
        """A workday is one of the person's workdays that is not a public holiday."""
        return day.weekday() in self.workdays and not is_public_holiday(self.jurisdiction, day)


def resolve_person(row: dict, config: Config) -> WorkSchedule:
    """Fill a people row's missing calendar fields from the org defaults."""
    used: list[str] = []

    def pick(field: str) -> str:
        value = row.get(field)
        if value is None or str(value).strip() == "":
            used.append(field)
            return str(config[f"defaults.{field}"])
        return str(value)

    tz_raw = pick("tz")
    tz = resolve_zone(tz_raw)
    if tz is None:
        if "tz" not in used:
            used.append("tz")
        tz = resolve_zone(config["defaults.tz"]) or "UTC"
    start = parse_hhmm(pick("work_start"))
    end = parse_hhmm(pick("work_end"))
    if end <= start:
        raise ConfigError(
            f"person {row.get('person_id')!r}: work_end must be after work_start (night shifts are not supported yet)"
        )
    return WorkSchedule(
        person_id=str(row.get("person_id")),
        tz=tz,
        work_start_s=start,
        work_end_s=end,
        workdays=parse_workdays(pick("workdays")),
        jurisdiction=pick("jurisdiction"),
        defaults_used=tuple(used),
    )


def split_jurisdiction(code: str) -> tuple[str, str | None]:
    """'CA-ON' -> ('CA', 'ON'); 'FR' -> ('FR', None); 'EU-WTD' -> ('EU', 'WTD')."""
    code = (code or "").strip().upper()
    if "-" in code:
        country, sub = code.split("-", 1)
        return country, sub
    return code, None


@lru_cache(maxsize=256)
def holiday_calendar(code: str, year: int) -> dict[date, str]:
    """Public holidays (date -> name) of jurisdiction ``code`` ('FR', 'US-CA') in ``year``;
    empty for an unknown or empty code. Cached: do not mutate the result."""
    country, sub = split_jurisdiction(code)
    if not country:
        return {}
    try:
        cal = pyholidays.country_holidays(country, subdiv=sub, years=year)
    except NotImplementedError:
        return {}
    except Exception:  # unknown subdivision: fall back to the national calendar
        try:
            cal = pyholidays.country_holidays(country, years=year)
        except NotImplementedError:
            return {}
    return dict(cal.items())


_holiday_calendar = holiday_calendar  # the former private name


def is_public_holiday(jurisdiction: str, day: date) -> bool:
    return day in holiday_calendar(jurisdiction, day.year)


def holiday_rows(jurisdictions: Iterable[str], start: date, end: date) -> list[tuple[str, date, str]]:
    """(jurisdiction, date, name) for every public holiday in [start, end]."""
    rows = []
    for code in sorted(set(j for j in jurisdictions if j)):
        for year in range(start.year, end.year + 1):
            for day, name in sorted(holiday_calendar(code, year).items()):
                if start <= day <= end:
                    rows.append((code, day, name))
    return rows
