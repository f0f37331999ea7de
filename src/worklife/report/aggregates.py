"""The numbers behind the report, aggregated in DuckDB from the person-week table.

``person_weeks`` (one row per person and ISO week, columns as in docs/metrics.md; hours)
is registered on the store's connection as the temporary view ``_report_pw`` with each
person's ``team`` joined from ``people``. Every group statistic obeys privacy: a team
with fewer than ``privacy.min_group_size`` distinct people is **suppressed** — it is
listed by name with its size and no value is computed for it; a team-week or org-week
with fewer people than that is dropped from weekly series. Complementary suppression
(``worklife.privacy.suppression``) then hides further teams and team-weeks wherever the
totals shown beside them (org per week, team over all weeks, the org over the whole
span) would let a suppressed one be derived by subtraction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from worklife.errors import WorklifeError
from worklife.privacy.suppression import ALL, ORG, Grid, protect_grid, too_small_rows
from worklife.store import Store

log = logging.getLogger(__name__)

NO_TEAM = "(no team)"

# Columns the report reads from the person-week table (docs/metrics.md).
REQUIRED_COLUMNS = (
    "person_id", "week", "week_start", "meeting_hours", "collaboration_hours", "focus_hours",
    "after_hours_collaboration_hours", "workweek_span", "over_40h", "status_meeting_hours",
)

VIEW = "_report_pw"


def as_frame(person_weeks: Any) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, Arrow table or Ibis expression."""
    if isinstance(person_weeks, pd.DataFrame):
        return person_weeks
    if hasattr(person_weeks, "execute") and hasattr(person_weeks, "schema"):  # Ibis
        return person_weeks.execute()
    if hasattr(person_weeks, "to_pandas"):
        return person_weeks.to_pandas()
    raise WorklifeError(f"person_weeks must be a DataFrame or Arrow table, not {type(person_weeks).__name__}")


def check_columns(df: pd.DataFrame) -> None:
    """Raise WorklifeError naming the person-week columns the report needs but lacks."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise WorklifeError(
            f"person-week table lacks column(s) {', '.join(missing)} (see docs/metrics.md)"
        )


def finish_pending(store: Store) -> None:
    """Complete a result an earlier ``execute()`` left unfetched (DuckDB then refuses register())."""
    store.settle()


@contextmanager
def registered(store: Store, person_weeks: pd.DataFrame) -> Iterator[str]:
    """Register ``person_weeks`` + team as the temp view ``_report_pw``; drop it on exit."""
    raw = f"_report_pw_raw_{uuid.uuid4().hex[:8]}"
    frame = person_weeks.drop(columns=[c for c in ("team",) if c in person_weeks.columns])
    with store.registered(raw, frame):
        try:
            store.run(
                f"""CREATE OR REPLACE TEMP VIEW {VIEW} AS
                    SELECT pw.*, coalesce(nullif(trim(p.team), ''), '{NO_TEAM}') AS team
                    FROM {raw} pw LEFT JOIN people p ON p.person_id = pw.person_id"""
            )
            yield VIEW
        finally:
            finish_pending(store)
            store.run(f"DROP VIEW IF EXISTS {VIEW}")


@dataclass(frozen=True)
class TeamSizes:
    """Distinct people per team; which teams may be shown and which are suppressed.

    ``suppressed`` includes the teams hidden only to protect a smaller one
    (``complementary``); ``grid`` says which team-weeks and org-weeks may be shown.
    """

    min_group: int
    shown: dict[str, int]
    suppressed: dict[str, int]
    complementary: frozenset[str] = frozenset()
    grid: Grid | None = None

    def shows(self, team: str, week: str = ALL) -> bool:
        """True if ``team``'s figure (``ORG``: everyone) in ``week`` (default: all weeks) may be shown."""
        if self.grid is None:
            return team in self.shown if week == ALL else False
        return self.grid.shows(team, week)


def team_sizes(store: Store, min_group: int) -> TeamSizes:
    rows = store.frame(f"SELECT DISTINCT team, week, person_id FROM {VIEW}")
    grid = protect_grid(rows, "team", "week", min_group)
    teams = {t: grid.people[(t, ALL)] for t in grid.groups(ALL) + grid.groups(ALL, hidden=True)}
    shown = {t: n for t, n in sorted(teams.items()) if grid.shows(t)}
    suppressed = {t: n for t, n in sorted(teams.items()) if not grid.shows(t)}
    complementary = frozenset(t for t in suppressed if grid.reason(t) == "complementary")
    return TeamSizes(min_group, shown, suppressed, complementary, grid)


def _shown_filter(sizes: TeamSizes) -> tuple[str, list[str]]:
    teams = sorted(sizes.shown)
    if not teams:
        return "FALSE", []
    return f"team IN ({', '.join('?' for _ in teams)})", teams


def team_stats(store: Store, sizes: TeamSizes, metric: str) -> pd.DataFrame:
    """Per shown team: people, person_weeks, mean, median, p90 of ``metric`` (hours/person-week).

    Sorted by mean, highest first. Suppressed teams are not queried at all.
    """
    where, params = _shown_filter(sizes)
    return store.frame(
        f"""SELECT team, count(DISTINCT person_id) AS people, count(*) AS person_weeks,
                   avg({metric}) AS mean, quantile_cont({metric}, 0.5) AS median,
                   quantile_cont({metric}, 0.9) AS p90
            FROM {VIEW} WHERE {where} GROUP BY team ORDER BY mean DESC, team""",
        params,
    )


TREND_METRICS = {
    "meeting_hours": "Meeting hours",
    "collaboration_hours": "Collaboration hours",
    "focus_hours": "Focus hours",
}


def weekly_org(store: Store, min_group: int, sizes: TeamSizes | None = None) -> tuple[pd.DataFrame, int]:
    """Org mean of the trend metrics per week; weeks with too few people (or withheld) are dropped.

    Returns (frame[week, week_start, people, <metrics>], number of weeks dropped).
    """
    means = ", ".join(f"avg({m}) AS {m}" for m in TREND_METRICS)
    df = store.frame(
        f"""SELECT week, min(week_start) AS week_start, count(DISTINCT person_id) AS people, {means}
            FROM {VIEW} GROUP BY week ORDER BY week"""
    )
    keep = ~too_small_rows(df["people"], min_group)
    if sizes is not None:
        keep &= pd.Series([sizes.shows(ORG, str(w)) for w in df["week"]], index=df.index, dtype=bool)
    return df[keep].reset_index(drop=True), int((~keep).sum())


def weekly_team(store: Store, sizes: TeamSizes) -> pd.DataFrame:
    """Team mean of the trend metrics per week: shown teams, team-weeks the suppression pattern allows."""
    where, params = _shown_filter(sizes)
    means = ", ".join(f"avg({m}) AS {m}" for m in TREND_METRICS)
    df = store.frame(
        f"""SELECT team, week, min(week_start) AS week_start, count(DISTINCT person_id) AS people, {means}
            FROM {VIEW} WHERE {where} GROUP BY team, week
            HAVING count(DISTINCT person_id) >= ? ORDER BY team, week""",
        [*params, sizes.min_group],
    )
    if sizes.grid is None or df.empty:
        return df
    keep = [sizes.shows(str(t), str(w)) for t, w in zip(df["team"], df["week"])]
    return df[keep].reset_index(drop=True)


def over_40h_by_team(store: Store, sizes: TeamSizes) -> pd.DataFrame:
    """Per shown team: person-weeks with workweek_span over the threshold, share (%), mean span."""
    where, params = _shown_filter(sizes)
    return store.frame(
        f"""SELECT team, count(DISTINCT person_id) AS people, count(*) AS person_weeks,
                   count(*) FILTER (WHERE over_40h) AS weeks_over_40h,
                   100.0 * count(*) FILTER (WHERE over_40h) / count(*) AS share_pct,
                   avg(workweek_span) AS mean_span
            FROM {VIEW} WHERE {where} GROUP BY team ORDER BY share_pct DESC, team""",
        params,
    )


def status_meetings_by_team(store: Store, sizes: TeamSizes) -> pd.DataFrame:
    """Per shown team: mean status-meeting and meeting hours per person-week, status share (%)."""
    where, params = _shown_filter(sizes)
    return store.frame(
        f"""SELECT team, count(DISTINCT person_id) AS people,
                   avg(status_meeting_hours) AS status_hours, avg(meeting_hours) AS meeting_hours,
                   CASE WHEN sum(meeting_hours) > 0
                        THEN 100.0 * sum(status_meeting_hours) / sum(meeting_hours) END AS share_pct
            FROM {VIEW} WHERE {where} GROUP BY team ORDER BY status_hours DESC, team""",
        params,
    )


def quarantine_reasons(store: Store) -> pd.DataFrame:
    """Quarantined records by source kind and reason: count and number of sources."""
    return store.frame(
        """WITH kinds AS (SELECT source, any_value(kind) AS kind FROM ingest_log GROUP BY source)
           SELECT coalesce(k.kind, '?') AS kind, q.reason, count(*) AS records,
                  count(DISTINCT q.source) AS sources
           FROM quarantine q LEFT JOIN kinds k ON k.source = q.source
           GROUP BY ALL ORDER BY records DESC, kind, reason"""
    )


def defaults_used(store: Store) -> pd.DataFrame:
    """Internal people per calendar field that fell back to the org default (``people.defaults_used``).

    The column may hold a comma-separated or JSON list of field names; both are read.
    """
    return store.frame(
        """SELECT field, count(DISTINCT person_id) AS people
           FROM (SELECT person_id, unnest(regexp_extract_all(defaults_used, '[a-z_]+')) AS field
                 FROM people WHERE coalesce(is_internal, TRUE) AND defaults_used IS NOT NULL)
           GROUP BY field ORDER BY people DESC, field"""
    )


def ingest_by_kind(store: Store) -> pd.DataFrame:
    """Per source kind: sources, records read and quarantined (latest run of each source)."""
    return store.frame(
        """WITH latest AS (
               SELECT * FROM ingest_log
               QUALIFY row_number() OVER (PARTITION BY source ORDER BY finished_utc DESC NULLS LAST) = 1)
           SELECT kind, count(*) AS sources, sum(read) AS records_read,
                  sum(quarantined) AS quarantined
           FROM latest GROUP BY kind ORDER BY records_read DESC, kind"""
    )


@dataclass(frozen=True)
class OrgSummary:
    """The header line: who and when the report covers, and what was ingested."""

    people: int
    weeks: int
    first_week: str | None
    last_week: str | None
    first_day: Any  # date of the first local Monday
    last_day: Any  # date of the last week's Sunday
    sources: pd.DataFrame  # ingest_by_kind
    quarantined: int
    team_sizes: TeamSizes


def org_summary(store: Store, sizes: TeamSizes) -> OrgSummary:
    row = store.row(
        f"""SELECT count(DISTINCT person_id), count(DISTINCT week), min(week), max(week),
                   CAST(min(week_start) AS DATE), CAST(max(week_start) AS DATE) + 6
            FROM {VIEW}"""
    )
    assert row is not None  # an aggregate without GROUP BY always returns one row
    people, weeks, w0, w1, d0, d1 = row
    return OrgSummary(
        people=int(people), weeks=int(weeks), first_week=w0, last_week=w1,
        first_day=d0, last_day=d1, sources=ingest_by_kind(store),
        quarantined=int(store.count("quarantine")), team_sizes=sizes,
    )
