"""The incremental planner's box merging (``incremental.plan_jobs``).

Oracle: a straightforward merge written here, which builds every pair's hull again
after each merge (as the planner did before it cached the pairs' gains). On random
stale days, people and fixed costs the planner must choose exactly the same boxes.
"""

from __future__ import annotations

import random

import pytest

from worklife.metrics import incremental
from worklife.metrics.incremental import Job


def _hull(x: Job, y: Job) -> Job:
    persons = None if x.persons is None or y.persons is None else list(set(x.persons) | set(y.persons))
    return Job(persons, min(x.d0, y.d0), max(x.d1, y.d1))


def _reference(everyone_weeks: set[int], person_all: set[str], person_days: dict[int, set[str]],
               span: tuple[int, int], n_people: int) -> list[tuple]:
    """The boxes as the docstring of ``plan_jobs`` describes them, merged the slow way."""
    jobs = [Job(sorted(person_all), span[0], span[1])] if person_all else []
    everyone_days: set[int] = set()
    for a, b in incremental._runs(list(everyone_weeks), 7):
        jobs.append(Job(None, a, b + 6))
        everyone_days.update(range(a, b + 7))
    rest = {d: ps - person_all for d, ps in person_days.items() if d not in everyone_days}
    rest = {d: ps for d, ps in rest.items() if ps}
    runs = incremental._same_people_runs(rest)
    if len(runs) > incremental.MAX_JOBS:
        runs = incremental._runs(list(rest))
    for a, b in runs:
        jobs.append(Job(sorted(set().union(*(rest[d] for d in range(a, b + 1) if d in rest))), a, b))
    while len(jobs) > 1:
        best = None
        for i in range(len(jobs)):
            for k in range(i + 1, len(jobs)):
                hull = _hull(jobs[i], jobs[k])
                gain = jobs[i].cost(n_people) + jobs[k].cost(n_people) - hull.cost(n_people)
                if best is None or gain > best[0]:
                    best = (gain, i, k, hull)
        gain, i, k, hull = best
        if gain <= 0 and len(jobs) <= incremental.MAX_JOBS:
            break
        jobs = [j for n, j in enumerate(jobs) if n not in (i, k)] + [hull]
    boxes = ((None if j.persons is None else sorted(j.persons), j.d0, j.d1) for j in jobs)
    return sorted(boxes, key=lambda t: (t[1], t[2]))


@pytest.mark.parametrize("seed", range(6))
def test_plan_jobs_merges_like_the_pairwise_reference(monkeypatch, seed):
    rnd = random.Random(seed)
    for _ in range(150):
        n = rnd.choice([3, 20, 120])
        people = [f"user{i:03d}@example.com" for i in range(n)]
        span = (0, 7 * rnd.randint(2, 9) - 1)
        everyone = {w for w in range(0, span[1], 7) if rnd.random() < 0.15}
        person_all = set(rnd.sample(people, rnd.choice([0, 0, 1, 2])))
        days = {d: set(rnd.sample(people, rnd.randint(1, n))) for d in range(span[1] + 1) if rnd.random() < 0.3}
        monkeypatch.setattr(incremental, "JOB_FIXED_COST", rnd.choice([0, 3, 40, 5000]))
        got = incremental.plan_jobs(everyone, person_all, {d: set(p) for d, p in days.items()}, span, n)
        assert [(j.persons, j.d0, j.d1) for j in got] == _reference(everyone, person_all, days, span, n)


def _touched_store(rows: list[tuple[str, int, int]]):
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE metric_touched (seq BIGINT, person_id VARCHAR, lo_s BIGINT, hi_s BIGINT)")
    con.executemany("INSERT INTO metric_touched VALUES (?, ?, ?, ?)", [(i + 1, *r) for i, r in enumerate(rows)])
    return con


@pytest.mark.parametrize("seed", range(4))
def test_touched_rows_grouped_per_utc_day_plan_the_same_days(seed):
    """Ingest writes one ``metric_touched`` row per person and UTC day of the start
    (``touched._ROW_GROUP``): the local days planned from those rows are exactly the days
    planned from every touched instant and meeting apart (zones from -12 h to +14 h,
    unknown zones, meetings across midnight, e-mail and chat slack)."""
    import pandas as pd
    import pyarrow as pa

    from worklife import touched
    from worklife.config import Config

    rnd = random.Random(seed)
    zones = {"Etc/GMT+12": [-12 * 3600], "Asia/Kolkata": [19800], "Pacific/Kiritimati": [14 * 3600],
             "Europe/Paris": [3600, 7200], "UTC": [0]}
    people = [f"user{i:02d}@example.com" for i in range(12)]
    frame = pd.DataFrame({"person_id": people, "tz": [rnd.choice([*zones, "Nowhere/Unknown"]) for _ in people]})
    offsets = pa.table({"tz": [z for z, offs in zones.items() for _ in offs],
                        "utc_offset_s": [o for offs in zones.values() for o in offs]})
    base = 20_000 * 86400
    raw = []
    for _ in range(400):
        lo = base + rnd.randint(0, 20 * 86400)
        hi = lo + rnd.choice([0, 0, 0, 1800, 5 * 3600, 30 * 3600])  # instants, meetings (some overnight)
        raw.append((rnd.choice(people), lo, hi))
    span, config = (20_002, 20_018), Config()

    def planned(rows: list[tuple[str, int, int]]) -> tuple[dict, dict]:
        con = _touched_store(rows)
        grouped = [tuple(r) for r in con.execute(
            f"SELECT person_id, min(lo_s), max(hi_s) FROM metric_touched GROUP BY person_id, {touched._ROW_GROUP}"
        ).fetchall()]
        assert len(grouped) < len(rows)
        return (incremental.touched_days(con, frame, offsets, config, (0, len(rows)), span),
                incremental.touched_days(_touched_store(grouped), frame, offsets, config, (0, len(grouped)), span))

    days_raw, days_grouped = planned(raw)
    assert days_grouped == days_raw
    # a meeting ending before it starts may widen its day's row: more days, never fewer
    days_raw, days_grouped = planned([*raw, (people[0], base + 5 * 86400, base + 5 * 86400 - 3600)])
    assert all(days_raw[d] <= days_grouped.get(d, set()) for d in days_raw)
