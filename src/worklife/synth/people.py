"""People and teams of the synthetic organisation.

Teams of 8-15 people, each with a manager (the first member) and a home zone; about
15 % of members of ordinary teams live in another zone of the team's region. The first
six teams carry the planted behaviours (see docs/synth.md):

0. manager in Los Angeles (10:00-18:30), members in Toronto: the night pinger's team;
1. manager in Los Angeles, members in Europe: the team whose standup is their evening;
2. Berlin (weekend worker), 3. Madrid (daily-rest breach), 4. Paris (seven-day week,
   DST-night meeting), 5. Sydney (> 48 h spans).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.synth._clock import Clock
from worklife.synth.model import DOMAIN, JURISDICTION, REGION, ZONES
from worklife.workcal import is_public_holiday, resolve_person

MIN_PEOPLE = 48
TEAM_NAMES = ["Atlas", "Borealis", "Cassini", "Deneb", "Electra", "Fornax", "Gemini", "Hydra",
              "Izar", "Juno", "Kepler", "Lyra", "Mira", "Nova", "Orion", "Pavo", "Quasar",
              "Rigel", "Sirius", "Tucana", "Ursa", "Vega", "Wezen", "Xena", "Yildun", "Zosma"]
FORCED = ["America/Toronto", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Paris",
          "Australia/Sydney"]
CYCLE = ["Asia/Kolkata", "Asia/Kathmandu", "America/Santiago", "America/Bogota",
         "America/Argentina/Buenos_Aires", "Europe/Lisbon", "Europe/Brussels", "Europe/Dublin",
         "America/Toronto", "America/Los_Angeles", "Australia/Sydney", "Europe/Paris",
         "Europe/Berlin", "Europe/Madrid"]
EUROPE_MIX = ["Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Brussels"]
HOURS = [("09:00", "17:00"), ("08:00", "16:00"), ("10:00", "18:30")]


def team_name(t: int) -> str:
    base = TEAM_NAMES[t % len(TEAM_NAMES)]
    return base if t < len(TEAM_NAMES) else f"{base} {t // len(TEAM_NAMES) + 1}"


def team_sizes(rng: np.random.Generator, n: int) -> list[int]:
    k = team_count(n)
    sizes = [8] * k
    for _ in range(n - 8 * k):
        open_ = [i for i in range(k) if sizes[i] < 15]
        sizes[open_[int(rng.integers(len(open_)))]] += 1
    return sizes


@dataclass(frozen=True)
class Roster:
    """People as arrays for vectorised generation (index = row of ``people``)."""

    people: pd.DataFrame
    ids: np.ndarray          # person_id (object)
    zone: np.ndarray         # index into clock.zones (resolved zone)
    ws: np.ndarray           # work start, local seconds (resolved)
    we: np.ndarray           # work end, local seconds (resolved)
    team: np.ndarray         # team index
    region: np.ndarray       # region index
    manager: np.ndarray      # index of manager, -1 none
    engineer: np.ndarray     # bool: makes commits
    workday: np.ndarray      # [person, clock day] bool
    holiday: np.ndarray      # [person, clock day] bool (public holiday)
    team_start: np.ndarray
    team_size: np.ndarray
    region_order: np.ndarray  # person indexes sorted by region
    region_start: np.ndarray
    region_size: np.ndarray
    tz: list[str]            # resolved zone names per person


def team_count(n: int) -> int:
    """How many teams ``n`` people form (fixed by ``n``; only their sizes are drawn)."""
    return int(np.clip(round(n / 11.5), max(6, -(-n // 15)), n // 8))


def make_people(rng: np.random.Generator, n: int, *, first: int = 0, width: int | None = None,
                first_team: int = 0, head_manager: str | None = None,
                planted: bool = True) -> tuple[pd.DataFrame, dict]:
    """The ``people`` table and the planted roles (person ids) of the org (or of one division).

    A division of a larger org numbers its people from ``first + 1`` (``width`` digits,
    org-wide) and its teams from ``first_team``; its head reports to ``head_manager``.
    With ``planted=False`` no team carries a planted role (zones cycle from team 0, no
    forced hours, no missing fields) and ``roles`` is ``{"defaults_used": {}}``.
    """
    if n < MIN_PEOPLE:
        raise ConfigError(f"synth needs at least {MIN_PEOPLE} people for the planted teams, not {n}")
    sizes = team_sizes(rng, n)
    width = width or max(3, len(str(n)))
    forced = FORCED if planted else []
    rows = []
    managers: list[int] = []
    i = 0
    for t, size in enumerate(sizes):
        home = forced[t] if t < len(forced) else CYCLE[(t - len(forced)) % len(CYCLE)]
        special = planted and t < len(FORCED)
        managers.append(i)
        for m in range(size):
            tz = home
            if special and t == 0 and m == 0:
                tz = "America/Los_Angeles"
            elif special and t == 1:
                tz = "America/Los_Angeles" if m == 0 else EUROPE_MIX[m % len(EUROPE_MIX)]
            elif special and t in (2, 3) and m == 4:  # remote members: half- and quarter-hour zones in small orgs
                tz = "Asia/Kolkata" if t == 2 else "Asia/Kathmandu"
            elif not special and m > 0 and rng.random() < 0.15:
                region = REGION[home]
                options = [z for z, _, r in ZONES if r == region]
                tz = options[int(rng.integers(len(options)))]
            hours = HOURS[int(rng.choice(3, p=[0.7, 0.15, 0.15]))]
            if special and t == 0 and m == 0:
                hours = ("10:00", "18:30")
            if special and ((t in (2, 3, 4, 5) and m in (1, 2, 3)) or (t == 1 and m > 0)):
                hours = ("09:00", "17:00")
            num = f"{first + i + 1:0{width}d}"
            email = f"user{num}@{DOMAIN}"
            rows.append({
                "person_id": email, "email": email, "display_name": f"Test Person {num}",
                "tz": tz, "work_start": hours[0], "work_end": hours[1], "workdays": "Mon-Fri",
                "manager_id": None, "team": team_name(first_team + t),
                "level": "M1" if m == 0 else f"IC{int(rng.integers(1, 5))}",
                "jurisdiction": JURISDICTION[tz], "slack_id": f"U{first + i + 1:07d}",
                "_team": t, "_m": m,
            })
            i += 1
    head = managers[2]
    for r in rows:
        t, m = r["_team"], r["_m"]
        if m == 0:
            r["manager_id"] = head_manager if managers[t] == head else rows[head]["person_id"]
            if managers[t] == head:
                r["level"] = "M2"
        else:
            r["manager_id"] = rows[managers[t]]["person_id"]
    # Planted fallbacks: the last team's members 1 and 2 lack tz / working hours.
    last = len(sizes) - 1 if planted else -1
    missing: dict[str, list[str]] = {}
    for r in rows:
        if r["_team"] == last and r["_m"] == 1:
            r["tz"] = None
            missing[r["person_id"]] = ["tz"]
        if r["_team"] == last and r["_m"] == 2:
            r["work_start"] = r["work_end"] = None
            missing[r["person_id"]] = ["work_start", "work_end"]
    people = pd.DataFrame(rows)
    if not planted:
        return people, {"defaults_used": missing}
    pid = people["person_id"].tolist()

    def member(t: int, m: int) -> str:
        return pid[managers[t] + m]

    roles = {
        "night_pinger": member(0, 0),
        "night_pinger_reports": [member(0, m) for m in range(1, sizes[0])],
        "evening_standup_team": team_name(1),
        "weekend_worker": member(2, 1),
        "daily_rest": member(3, 1),
        "daily_rest_partner": member(3, 2),
        "seven_day_week": member(4, 1),
        "dst_meeting": [member(4, 2), member(4, 3)],
        "long_span": member(5, 1),
        "defaults_used": missing,
    }
    return people, roles


def records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None (pandas would give NaN)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def make_roster(people: pd.DataFrame, clock_zones: list[str], day0: date, ndays: int,
                config: Config, roles: dict) -> tuple[Roster, Clock]:
    """Arrays of resolved schedules, workdays and holidays for generation."""
    scheds = [resolve_person(r, config) for r in records(people)]
    tzs = [s.tz for s in scheds]
    zones = sorted(set(clock_zones) | set(tzs))
    clock = Clock(zones, day0, ndays)
    n = len(people)
    days = [clock.date(d) for d in range(ndays)]
    workday = np.zeros((n, ndays), dtype=bool)
    holiday = np.zeros((n, ndays), dtype=bool)
    cache: dict[tuple[str, frozenset[int]], tuple[np.ndarray, np.ndarray]] = {}
    for p, s in enumerate(scheds):
        key = (s.jurisdiction, s.workdays)
        if key not in cache:
            hol = np.array([is_public_holiday(s.jurisdiction, d) for d in days])
            wk = np.array([d.weekday() in s.workdays for d in days])
            cache[key] = (wk & ~hol, hol)
        workday[p], holiday[p] = cache[key]
    team = people["_team"].to_numpy()
    index = {p: i for i, p in enumerate(people["person_id"])}
    manager = np.array([index.get(m, -1) if m else -1 for m in people["manager_id"]])
    region_names = sorted(set(REGION.values()) | {"utc"})
    region = np.array([region_names.index(REGION.get(z, "utc")) for z in tzs])
    order = np.argsort(region, kind="stable")
    rcount = np.bincount(region, minlength=len(region_names))
    tcount = np.bincount(team)
    roster = Roster(
        people=people, ids=people["person_id"].to_numpy(dtype=object),
        zone=np.array([clock.index[z] for z in tzs]),
        ws=np.array([s.work_start_s for s in scheds]), we=np.array([s.work_end_s for s in scheds]),
        team=team, region=region, manager=manager,
        engineer=(team % 3 != 2),
        workday=workday, holiday=holiday,
        team_start=np.concatenate([[0], np.cumsum(tcount)[:-1]]), team_size=tcount,
        region_order=order, region_start=np.concatenate([[0], np.cumsum(rcount)[:-1]]),
        region_size=rcount, tz=tzs,
    )
    return roster, clock

