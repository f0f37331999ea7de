"""Notable numbers for a digest: meeting load and the after-hours share.

Two sources, chosen by ``build_digest(..., numbers=)``:

- ``"metrics"``: the metric engine's person-week table (``worklife.metrics.compute``,
  docs/metrics.md) for the week: ``meeting_hours``, ``status_meeting_hours``,
  ``meetings``, and the after-hours share of **collaboration hours**
  (``after_hours_collaboration_hours / collaboration_hours``). The default whenever
  ``worklife.metrics`` is installed. It covers the whole ISO week (no cut at ``now``).
- ``"quick"``: one DuckDB query over the team's week windows (each person's own local
  ISO week, cut at ``now``), with the same qualifying-meeting rule
  (``worklife.rules.meetings``):

  - ``meeting_hours``: length of the union of the person's qualifying meetings inside
    the window (not cancelled, not free/transparent, not all-day, ``0 < duration <=
    metrics.meeting_max_hours``, at least ``metrics.meeting_min_people`` attendees, the
    person did not decline), clipped to the window;
  - ``status_meeting_hours``: the same for recurring meetings whose title matches
    ``metrics.status_title_patterns``; ``meetings``: qualifying occurrences starting in
    the window;
  - after-hours share of **activity instants**: e-mails and chats sent (not automatic),
    commits, starts of qualifying meetings; the share outside the person's working hours
    (local time, workdays, public holidays of the jurisdiction: ``worklife.rules.worktime``).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from worklife.config import Config
from worklife.rules.meetings import meeting_rule
from worklife.rules.worktime import workday_mask, working_sql
from worklife.store import Store
from worklife.timezones import tz_offsets_table
from worklife.workcal import WorkSchedule, holiday_rows

ACTIVITY = "activity instants"
COLLABORATION = "collaboration hours"


@dataclass(frozen=True)
class Numbers:
    """One person's (or the team's summed) numbers for the week.

    ``after_hours`` of ``total`` is the after-hours part of the ``basis``: activity
    instants (counts, ``"quick"``) or collaboration hours (``"metrics"``).
    """

    meeting_hours: float
    status_meeting_hours: float
    meetings: int
    after_hours: float
    total: float
    basis: str = ACTIVITY

    @property
    def after_hours_share(self) -> float | None:
        """Share (0..1) of the basis outside working hours; None when there is none."""
        return self.after_hours / self.total if self.total else None

    @classmethod
    def empty(cls, basis: str = ACTIVITY) -> Numbers:
        return cls(0.0, 0.0, 0, 0, 0, basis)

    @classmethod
    def pool(cls, items: list[Numbers]) -> Numbers:
        """Team totals: hours and counts summed, so the share is pooled over the team."""
        return cls(
            round(sum(n.meeting_hours for n in items), 2),
            round(sum(n.status_meeting_hours for n in items), 2),
            sum(n.meetings for n in items), round(sum(n.after_hours for n in items), 2),
            round(sum(n.total for n in items), 2), items[0].basis if items else ACTIVITY,
        )


def metrics_numbers(store: Store, config: Config, person_ids: list[str], week: str) -> dict[str, Numbers]:
    """Numbers from the metric engine's person-week table (``worklife.metrics.compute``)."""
    from worklife.metrics import compute

    df = compute(store, config, by="person", period="week", weeks=[week])
    df = df[df["person_id"].isin(person_ids)]
    return {
        str(r.person_id): Numbers(round(float(r.meeting_hours), 2), round(float(r.status_meeting_hours), 2),
                                  int(r.meetings), round(float(r.after_hours_collaboration_hours), 2),
                                  round(float(r.collaboration_hours), 2), COLLABORATION)
        for r in df.itertuples()
    }


def _union_hours(source: str, where: str = "TRUE") -> str:
    """SQL: per person_id, hours covered by the union of intervals [s, e) of ``source``."""
    return f"""
        SELECT person_id, sum(epoch(ge) - epoch(gs)) / 3600.0 AS hours FROM (
            SELECT person_id, grp, min(s) AS gs, max(e) AS ge FROM (
                SELECT *, sum(CASE WHEN prev_e IS NULL OR s > prev_e THEN 1 ELSE 0 END)
                          OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp
                FROM (SELECT person_id, s, e, max(e) OVER (PARTITION BY person_id ORDER BY s, e
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
                      FROM {source} WHERE {where}))
            GROUP BY person_id, grp)
        GROUP BY person_id"""


def quick_numbers(
    store: Store, config: Config, schedules: list[WorkSchedule],
    windows: dict[str, tuple[datetime, datetime]],
) -> dict[str, Numbers]:
    """Numbers per person_id for the [start, end) UTC windows given (aware datetimes)."""
    if not windows:
        return {}
    naive = {p: (a.astimezone(UTC).replace(tzinfo=None), b.astimezone(UTC).replace(tzinfo=None))
             for p, (a, b) in windows.items()}
    lo = min(a for a, _ in naive.values())
    hi = max(b for _, b in naive.values())
    if hi <= lo:
        return {p: Numbers.empty() for p in windows}
    d0, d1 = (lo - timedelta(days=2)).date(), (hi + timedelta(days=2)).date()
    sched = {s.person_id: s for s in schedules if s.person_id in windows}
    hol = [(s.person_id, day) for s in sched.values() for (_, day, _) in holiday_rows([s.jurisdiction], d0, d1)]
    inputs = ExitStack()  # the small driver-side tables, readable as views during the queries
    inputs.enter_context(store.registered("_nw", pa.table({
        "person_id": list(naive), "w0": [w[0] for w in naive.values()], "w1": [w[1] for w in naive.values()]})))
    inputs.enter_context(store.registered("_ns", pa.table({
        "person_id": list(sched), "tz": [s.tz for s in sched.values()],
        "start_s": [s.work_start_s for s in sched.values()], "end_s": [s.work_end_s for s in sched.values()],
        "mask": [workday_mask(s.workdays) for s in sched.values()],
    })))
    inputs.enter_context(store.registered("_nh", pa.table({
        "person_id": pa.array([h[0] for h in hol], pa.string()), "day": pa.array([h[1] for h in hol], pa.date32())})))
    inputs.enter_context(store.registered("_nz", tz_offsets_table({s.tz for s in sched.values()}, d0, d1)))
    status_re = "|".join(f"(?:{p})" for p in config["metrics.status_title_patterns"]) or "(?!)"
    try:
        rule = meeting_rule(config)
        store.run(f"""
            CREATE OR REPLACE TEMP TABLE _pm AS
            WITH q AS (
                SELECT meeting_key, start_utc, end_utc,
                       is_recurring AND regexp_matches(coalesce(title, ''), ?, 'i') AS is_status
                FROM ({rule.qualifying_meetings_sql('m.start_utc < ? AND m.end_utc > ?')}) m)
            SELECT w.person_id, q.meeting_key, q.start_utc, q.is_status,
                   greatest(q.start_utc, w.w0) AS s, least(q.end_utc, w.w1) AS e
            FROM q JOIN meeting_attendees a ON a.meeting_key = q.meeting_key AND {rule.attendee_sql('a')}
            JOIN _nw w ON w.person_id = a.person_id AND q.start_utc < w.w1 AND q.end_utc > w.w0""",
            [status_re, hi, lo])
        rows = store.rows(f"""
            WITH mh AS ({_union_hours('_pm')}),
            sh AS ({_union_hours('_pm', 'is_status')}),
            mc AS (SELECT p.person_id, count(DISTINCT p.meeting_key) AS n FROM _pm p JOIN _nw w USING (person_id)
                   WHERE p.start_utc >= w.w0 GROUP BY 1),
            acts AS (
                SELECT w.person_id, m.sent_utc AS t FROM messages m
                JOIN _nw w ON m.sender_id = w.person_id AND m.sent_utc >= w.w0 AND m.sent_utc < w.w1
                WHERE NOT m.is_auto
                UNION ALL
                SELECT w.person_id, o.at_utc FROM outcomes o
                JOIN _nw w ON o.person_id = w.person_id AND o.at_utc >= w.w0 AND o.at_utc < w.w1
                WHERE o.kind = 'commit'
                UNION ALL
                SELECT p.person_id, p.start_utc FROM _pm p JOIN _nw w USING (person_id) WHERE p.start_utc >= w.w0),
            loc AS (
                SELECT a.person_id, a.t + to_seconds(z.utc_offset_s) AS lt FROM acts a
                JOIN _ns s USING (person_id)
                JOIN _nz z ON z.tz = s.tz AND a.t >= z.valid_from_utc AND a.t < z.valid_to_utc),
            cls AS (
                SELECT l.person_id,
                       {working_sql('l.lt', 's.start_s', 's.end_s', 's.mask', 'h.day IS NOT NULL')} AS working
                FROM loc l JOIN _ns s USING (person_id)
                LEFT JOIN _nh h ON h.person_id = l.person_id AND h.day = CAST(l.lt AS DATE)),
            ah AS (SELECT person_id, count(*) AS n, count(*) FILTER (WHERE NOT working) AS ah FROM cls GROUP BY 1)
            SELECT w.person_id, coalesce(mh.hours, 0), coalesce(sh.hours, 0), coalesce(mc.n, 0),
                   coalesce(ah.n, 0), coalesce(ah.ah, 0)
            FROM _nw w LEFT JOIN mh USING (person_id) LEFT JOIN sh USING (person_id)
            LEFT JOIN mc USING (person_id) LEFT JOIN ah USING (person_id)""")
    finally:
        inputs.close()
        store.run("DROP TABLE IF EXISTS _pm")
    return {r[0]: Numbers(round(r[1], 2), round(r[2], 2), int(r[3]), int(r[5]), int(r[4]), ACTIVITY) for r in rows}
