"""A box's week rows without reading back the stored day rows (``worklife.metrics.boxweeks``).

Oracle: the week rows summed again from ``metric_days`` after the box's day rows are
replaced (what a full run and, before, every box did). Random stored day rows, random
boxes (everyone or some people; whole weeks, part of a week, across weeks) and random
new rows (people losing every row of a day, a week, or gaining some): the week rows must
be the same, row for row, including which person-weeks have a row at all.
"""

from __future__ import annotations

import random

import duckdb
import pandas as pd
import pytest

from worklife.metrics import boxweeks
from worklife.metrics.incremental import Job
from worklife.metrics.pipeline import LONG_NAMES
from worklife.metrics.results import _DDL

STAGING = "_test_staging"
MONDAY = 20150  # an epoch day that is a Monday (2025-03-03)


def _store(rnd: random.Random, people: list[str], days: range) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for ddl in _DDL:
        con.execute(ddl)
    rows = [(p, d, *[rnd.choice([0, 0, rnd.randint(1, 9000)]) for _ in LONG_NAMES], "old", 1)
            for p in people for d in days if rnd.random() < 0.45]
    con.executemany(f"INSERT INTO metric_days VALUES ({', '.join('?' * (len(LONG_NAMES) + 4))})", rows)
    _sum_weeks(con, days[0], days[-1], "TRUE", "old", 1)
    return con


def _sum_weeks(con, d0: int, d1: int, who: str, fp: str, mark: int) -> None:
    """The oracle: week rows of [d0, d1]'s weeks summed from metric_days."""
    w0, w1 = d0 - (d0 + 3) % 7, d1 - (d1 + 3) % 7
    con.execute(f"DELETE FROM metric_weeks WHERE week_day BETWEEN {w0} AND {w1} AND {who}")
    sums = ", ".join(f"CAST(sum({n}) AS BIGINT)" for n in LONG_NAMES)
    con.execute(f"INSERT INTO metric_weeks SELECT person_id, CAST(day - (day + 3) % 7 AS INTEGER), {sums}, ?, ? "
                f"FROM metric_days WHERE day BETWEEN {w0} AND {w1 + 6} AND {who} "
                "GROUP BY person_id, day - (day + 3) % 7", [fp, mark])


def _weeks(con) -> list[tuple]:
    return con.execute("SELECT * FROM metric_weeks ORDER BY person_id, week_day").fetchall()


def _apply(con, job: Job, new_rows: list[tuple], incremental: bool) -> None:
    who = "TRUE"
    if job.persons is not None:
        con.register("_box_people", pd.DataFrame({"person_id": pd.Series(job.persons, dtype=object)}))
        who = "person_id IN (SELECT person_id FROM _box_people)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGING} AS SELECT *, CAST(0 AS INTEGER) AS job_no "
                "FROM metric_days LIMIT 0")
    if new_rows:
        con.executemany(f"INSERT INTO {STAGING} VALUES ({', '.join('?' * (len(LONG_NAMES) + 5))})",
                        [(*r, "new", 2, 0) for r in new_rows])
    if incremental:
        boxweeks.save_old(con, job, who)
    con.execute(f"DELETE FROM metric_days WHERE day BETWEEN {job.d0} AND {job.d1} AND {who}")
    con.execute(f"INSERT INTO metric_days SELECT * EXCLUDE (job_no) FROM {STAGING}")
    if incremental:
        boxweeks.write(con, job, who, STAGING, 0, "new", 2)
        boxweeks.drop(con)
    else:
        _sum_weeks(con, job.d0, job.d1, who, "new", 2)


@pytest.mark.parametrize("seed", range(4))
def test_box_weeks_equal_the_weeks_summed_again_from_the_days(seed):
    rnd = random.Random(seed)
    people = [f"user{i:02d}@example.com" for i in range(rnd.choice([3, 12]))]
    days = range(MONDAY, MONDAY + 7 * 4)
    for _ in range(8):
        d0 = rnd.randint(days[0], days[-1])
        d1 = min(days[-1], d0 + rnd.choice([0, 0, 1, 3, 6, 9, 15]))
        persons = None if rnd.random() < 0.5 else sorted(rnd.sample(people, rnd.randint(1, len(people))))
        job = Job(persons, d0, d1)
        boxed = people if persons is None else persons
        dropped = set(rnd.sample(boxed, rnd.randint(0, len(boxed))))  # these get no new row at all
        new_rows = [(p, d, *[rnd.randint(0, 5000) for _ in LONG_NAMES]) for p in boxed if p not in dropped
                    for d in range(d0, d1 + 1) if rnd.random() < 0.5]
        want = _store(random.Random(seed * 1000 + d0), people, days)
        got = _store(random.Random(seed * 1000 + d0), people, days)
        assert _weeks(want) == _weeks(got)
        _apply(want, job, new_rows, incremental=False)
        _apply(got, job, new_rows, incremental=True)
        assert _weeks(got) == _weeks(want), (job, len(new_rows))


def test_a_week_whose_only_day_was_in_the_box_and_is_gone_has_no_row():
    """The boundary Sunday: a person whose only day of the week was that Sunday and who has
    no row there any more loses the week row; one with other days keeps it, re-summed."""
    con = duckdb.connect()
    for ddl in _DDL:
        con.execute(ddl)
    sunday = MONDAY + 6
    zeros = [0] * (len(LONG_NAMES) - 1)
    con.executemany(f"INSERT INTO metric_days VALUES ({', '.join('?' * (len(LONG_NAMES) + 4))})",
                    [("alice@example.com", sunday, 3600, *zeros, "old", 1),
                     ("bob@example.com", sunday, 600, *zeros, "old", 1),
                     ("bob@example.com", MONDAY + 2, 1200, *zeros, "old", 1)])
    _sum_weeks(con, MONDAY, sunday, "TRUE", "old", 1)
    _apply(con, Job(None, sunday, sunday + 7), [], incremental=True)
    weeks = {(r[0], r[1]): r[2] for r in _weeks(con)}
    assert weeks == {("bob@example.com", MONDAY): 1200}
