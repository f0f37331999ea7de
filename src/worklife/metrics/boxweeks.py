"""The week rows of an incremental box, summed without reading back the stored day rows.

A box (``incremental.Job``: some people × local days [d0, d1]) replaces its day rows in
``metric_days``; the week rows (``metric_weeks``) of the weeks those days fall in must
then be summed again. Summing them from ``metric_days`` reads every day of those weeks,
and the stored day rows of a week are spread over the whole table (a full run writes
them person batch by person batch): the scan decompresses nearly all of it, ~0.13 s at
10,000 × 52 for 148,000 rows, most of a one-week update's commit (docs/performance.md,
pass 9). Here a week row is, per person:

- a week the box covers whole: the sum of the box's new day rows (the staged rows);
- a week the box covers in part (the Sunday before a new week, say): the stored week
  row, minus the stored day rows of the box's days in that week (read before they are
  replaced: a day or two of rows), plus the new ones.

Integer sums: exact. A week row exists exactly when the person has a day row in that
week, as when it is summed from ``metric_days``: a stored week row whose only day rows
were in the box and that has no new one is dropped (whether the person has day rows
outside the box is read for those people only).

Use: ``save_old`` before the box's day rows are deleted, ``write`` after the new ones
are inserted, ``drop`` at the end; ``who`` is the SQL condition on ``person_id`` of the
box's people (``TRUE`` for everyone).
"""

from __future__ import annotations

import duckdb

from worklife.metrics.incremental import Job, monday
from worklife.metrics.pipeline import LONG_NAMES

OLD_DAYS = "_box_old_days"  # the stored day rows of the box's part of partial weeks, per person-week
OLD_WEEKS = "_box_old_weeks"  # the stored week rows of the partial weeks
UNDECIDED = "_box_undecided"  # person-weeks whose row depends on their days outside the box
_WEEK = "CAST(day - (day + 3) % 7 AS INTEGER)"


def partial_weeks(job: Job) -> list[int]:
    """Mondays of the weeks the box covers in part (at most two: its first and last)."""
    return sorted({w for w in (monday(job.d0), monday(job.d1)) if w < job.d0 or w + 6 > job.d1})


def _days_in(ranges: list[tuple[int, int]]) -> str:
    """SQL condition on ``day``: within one of the (first, last) ranges."""
    return " OR ".join(f"day BETWEEN {int(a)} AND {int(b)}" for a, b in ranges) or "FALSE"


def _box_days_of(weeks: list[int], job: Job) -> str:
    """SQL condition on ``day``: the box's days within ``weeks``."""
    return _days_in([(max(w, job.d0), min(w + 6, job.d1)) for w in weeks])


def save_old(con: duckdb.DuckDBPyConnection, job: Job, who: str) -> None:
    """Keep what ``write`` needs of the stored rows before the box's day rows are replaced."""
    weeks = partial_weeks(job)
    cols = ", ".join(f"CAST(sum({n}) AS BIGINT) AS {n}" for n in LONG_NAMES)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {OLD_DAYS} AS SELECT person_id, {_WEEK} AS w, {cols} "
                f"FROM metric_days WHERE ({_box_days_of(weeks, job)}) AND {who} GROUP BY ALL")
    in_weeks = ", ".join(str(w) for w in weeks) or "NULL"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {OLD_WEEKS} AS SELECT person_id, week_day AS w, "
                f"{', '.join(LONG_NAMES)} FROM metric_weeks WHERE week_day IN ({in_weeks}) AND {who}")


def write(con: duckdb.DuckDBPyConnection, job: Job, who: str, staging: str, job_no: int,
          settings_fp: str, watermark: int) -> None:
    """Replace the week rows of the box's weeks (and people) with the new sums."""
    w0, w1 = monday(job.d0), monday(job.d1)
    con.execute(f"DELETE FROM metric_weeks WHERE week_day BETWEEN ? AND ? AND {who}", [w0, w1])
    gone = _people_with_days_outside(con, job, staging, job_no)
    cols = ", ".join(LONG_NAMES)
    minus = ", ".join(f"-{n}" for n in LONG_NAMES)
    sums = ", ".join(f"CAST(sum({n}) AS BIGINT) AS {n}" for n in LONG_NAMES)
    con.execute(
        f"INSERT INTO metric_weeks SELECT g.person_id, g.w, {', '.join(f'g.{n}' for n in LONG_NAMES)}, ?, ? FROM ("
        f"SELECT person_id, w, {sums}, max(new) AS new, max(old) AS old, max(old_in_box) AS old_in_box FROM ("
        f"SELECT person_id, {_WEEK} AS w, {cols}, 1 AS new, 0 AS old, 0 AS old_in_box FROM {staging} WHERE job_no = ? "
        f"UNION ALL SELECT person_id, w, {cols}, 0, 1, 0 FROM {OLD_WEEKS} "
        f"UNION ALL SELECT person_id, w, {minus}, 0, 0, 1 FROM {OLD_DAYS}) GROUP BY person_id, w) g "
        f"LEFT JOIN ({gone}) x ON x.person_id = g.person_id AND x.w = g.w "
        "WHERE g.new = 1 OR (g.old = 1 AND (g.old_in_box = 0 OR x.person_id IS NOT NULL))",
        [settings_fp, int(watermark), job_no])


def _people_with_days_outside(con: duckdb.DuckDBPyConnection, job: Job, staging: str, job_no: int) -> str:
    """SQL of (person_id, w): the person-weeks whose stored week row had day rows in the
    box and has no new one there, that still have day rows outside the box (so keep a
    row); read from ``metric_days`` for those people only, and only when there are any."""
    undecided = (f"SELECT person_id, w FROM {OLD_DAYS} ANTI JOIN (SELECT DISTINCT person_id, {_WEEK} AS w "
                 f"FROM {staging} WHERE job_no = {int(job_no)}) USING (person_id, w)")
    none = "SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS INTEGER) AS w WHERE FALSE"
    if not con.execute(f"SELECT count(*) FROM ({undecided})").fetchall()[0][0]:
        return none
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNDECIDED} AS {undecided}")
    outside = _days_in(_outside_days(job))
    return (f"SELECT DISTINCT person_id, {_WEEK} AS w FROM metric_days WHERE ({outside}) "
            f"AND person_id IN (SELECT person_id FROM {UNDECIDED})")


def _outside_days(job: Job) -> list[tuple[int, int]]:
    """The days of the box's partial weeks that are not in the box, as (first, last)."""
    out = []
    for w in partial_weeks(job):
        if w < job.d0:
            out.append((w, min(w + 6, job.d0 - 1)))
        if w + 6 > job.d1:
            out.append((max(w, job.d1 + 1), w + 6))
    return out


def drop(con: duckdb.DuckDBPyConnection) -> None:
    for t in (OLD_DAYS, OLD_WEEKS, UNDECIDED):
        con.execute(f"DROP TABLE IF EXISTS {t}")
