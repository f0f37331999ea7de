"""What the digest would save: the team's recurring status-like meetings, in hours and money.

A **status meeting** is a qualifying meeting occurrence (``worklife.rules.meetings``,
docs/metrics.md: not cancelled, not free, not all-day, ``0 < duration <=
metrics.meeting_max_hours``, at least ``metrics.meeting_min_people`` attendees) with ``is_recurring`` whose title matches any
of ``metrics.status_title_patterns`` (case-insensitive). Its **person-hours** are its
duration times the team members who attended (did not decline). Per month =
person-hours over the observed calendar span (first meeting start to last meeting end
in the store, at least 7 days) × 30.4375 days; cost = that × ``metrics.hourly_cost``.

Next to it: the digest that replaces it, with the average number of items per week it
would list for the team (shipped items once each, and commits in no pull request, over the
same span).

Titles are shown only with ``privacy.keep_titles``; otherwise the matched status phrase
(``standup``, ``weekly sync`` …) stands for the series. ``estimate_savings`` returns every
team (records); the report draws them (``worklife.report.savings_section``), leaving out
teams with fewer than ``privacy.min_group_size`` people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from worklife.config import Config
from worklife.digest.build import COMMIT, RESOLVED_OUTCOMES
from worklife.digest.work import PR_LINK
from worklife.rules.meetings import meeting_rule
from worklife.store import Store

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class StatusSeries:
    label: str  # title, or the matched status phrase when titles are not kept
    occurrences: int
    attendees: int  # distinct team members who attended at least once
    person_hours: float  # over the observed span
    person_hours_per_month: float
    cost_per_month: float


@dataclass(frozen=True)
class TeamSavings:
    team: str
    team_size: int  # internal people in the team
    series: tuple[StatusSeries, ...]
    person_hours_per_month: float
    cost_per_month: float
    span_days: float
    outcomes_per_week: float  # what the digest would list instead (shipped items + commits)


def _span_days(store: Store) -> tuple[float, datetime | None, datetime | None]:
    row = store.row("SELECT min(start_utc), max(end_utc) FROM meetings")
    if not row or row[0] is None:
        return 7.0, None, None
    return max((row[1] - row[0]).total_seconds() / 86400, 7.0), row[0], row[1]


def estimate_savings(store: Store, config: Config, team: str | None = None) -> list[TeamSavings]:
    """Per team (or one ``team``), its recurring status meetings and their monthly cost."""
    patterns = list(config["metrics.status_title_patterns"])
    if not patterns:
        return []
    status_re = "|".join(f"(?:{p})" for p in patterns)
    days, t0, t1 = _span_days(store)
    months = days / DAYS_PER_MONTH
    rule = meeting_rule(config)
    rows = store.rows(f"""
        WITH q AS (
            SELECT meeting_key, coalesce(series_id, uid) AS series, title,
                   (epoch(end_utc) - epoch(start_utc)) / 3600.0 AS hours
            FROM ({rule.qualifying_meetings_sql("m.is_recurring AND regexp_matches(coalesce(m.title, ''), ?, 'i')")}) m)
        SELECT p.team, q.series, arg_max(q.title, q.meeting_key), count(DISTINCT q.meeting_key),
               count(DISTINCT a.person_id), sum(q.hours)
        FROM q JOIN meeting_attendees a ON a.meeting_key = q.meeting_key AND {rule.attendee_sql('a')}
        JOIN people p ON p.person_id = a.person_id AND p.is_internal AND p.team IS NOT NULL
        WHERE ? IS NULL OR p.team = ?
        GROUP BY 1, 2 ORDER BY 1, 6 DESC, 2""", [status_re, team, team])
    shipped = [str(k) for k in config["digest.shipped_kinds"]] + [COMMIT]
    # Items as the digest lists them: a shipped item once, a commit only when it is in no pull request.
    volume = dict(store.rows(f"""
        WITH r AS ({RESOLVED_OUTCOMES}),
        linked AS (SELECT DISTINCT source_ref AS sha FROM outcomes WHERE kind = '{PR_LINK}')
        SELECT p.team, count(DISTINCT r.kind || ':' || coalesce(r.ref, r.outcome_key))
        FROM r JOIN people p ON p.person_id = r.pid
        WHERE list_contains(?, r.kind) AND (? IS NULL OR (r.at_utc >= ? AND r.at_utc < ?))
          AND NOT (r.kind = '{COMMIT}' AND r.ref IN (SELECT sha FROM linked))
        GROUP BY 1""", [shipped, t0, t0, t1]))
    sizes = dict(store.rows(
        "SELECT team, count(*) FROM people WHERE is_internal AND team IS NOT NULL GROUP BY 1"))
    keep = bool(config["privacy.keep_titles"])
    regex = re.compile(status_re, re.IGNORECASE)
    rate = float(config["metrics.hourly_cost"])
    by_team: dict[str, list[StatusSeries]] = {}
    for tm, _series, title, occ, people, hours in rows:
        m = regex.search(title or "")
        label = (title or "") if keep else (m.group(0).lower() if m else "status meeting")
        per_month = hours / months
        by_team.setdefault(tm, []).append(StatusSeries(
            label, int(occ), int(people), round(hours, 2), round(per_month, 2), round(per_month * rate, 2)))
    out = []
    for tm, series in sorted(by_team.items()):
        ph = sum(s.person_hours for s in series) / months
        out.append(TeamSavings(tm, int(sizes.get(tm, 0)), tuple(series), round(ph, 2), round(ph * rate, 2), round(days, 1),
                               round(volume.get(tm, 0) / (days / 7), 1)))
    return out
