"""Incremental metric runs: what is stale in the stored results, and recomputing only that.

The stored results (``worklife.metrics.results``) are per person and local date, in
whole ISO weeks. A part is stale when:

- the settings the pipeline reads changed, or the metric code (``RESULTS_VERSION``), or
  the time-zone / holiday data → everything;
- a person's resolved schedule (zone, hours, workdays, jurisdiction) changed, or the
  person is new → all of that person's weeks; a person no longer measured → dropped;
- ingest touched the person at some times (``metric_touched``, written by the store,
  see ``worklife.touched``) → the local days those times can reach (then the week rows
  of those days' weeks are summed again from the stored day rows);
- the data range grew → the new weeks, for everyone.

A **job** recomputes a box: some people × a range of local days. It reads only the
activity within ``margin_days`` of the box (``pipeline.build(utc_window=...)``): every
metric of a local date depends on activity within a day or so of it (meetings are at
most ``metrics.meeting_max_hours`` long, the e-mail and chat windows minutes), so the
box's dates come out exactly as in a full run.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from worklife.config import Config
from worklife.metrics import MetricRun, sqlcache
from worklife.metrics.engine import Engine
from worklife.metrics.localtime import DAY_S, LocalCalendar, day_date, day_number, keys_table
from worklife.metrics.pipeline import WINDOW_VARIABLES, Parts, PeopleTable
from worklife.metrics.replay import BatchReplay, StepRecorder, pk_ranges, set_box

log = logging.getLogger(__name__)

#: Bump when a metric definition or the stored layout changes: stored results are then recomputed.
RESULTS_VERSION = 1
#: Settings the pipeline reads (the others are applied when results are read, or not used).
PIPELINE_SETTINGS = (
    "metrics.email_sent_minutes", "metrics.email_received_minutes", "metrics.chat_message_seconds",
    "metrics.chat_session_gap_minutes", "metrics.meeting_min_people", "metrics.meeting_max_hours",
    "metrics.large_meeting_invitees", "metrics.long_meeting_hours", "metrics.focus_block_hours",
    "metrics.uninterrupted_block_hours", "metrics.span_min_hours", "metrics.span_max_hours",
    "metrics.active_block_minutes", "metrics.quiet_day_max_after_hours_blocks",
    "metrics.status_title_patterns",
)
MAX_JOBS = 8  # more boxes than this are merged (each costs a graph compile, ~1-2 s)
#: A box's fixed cost (building and compiling its graph, ~1-2 s) in person-weeks of work
#: (a full run does ~4,000-5,000 person-weeks a second on two cores)
JOB_FIXED_COST = 5000
FULL_SHARE = 0.6  # when the boxes cover more than this share of the store, run in full


@dataclass
class Job:
    """Recompute ``persons`` (None: everyone) over local days [d0, d1] (any days; the
    week rows of the weeks they fall in are then summed again from the day rows)."""

    persons: list[str] | None
    d0: int
    d1: int

    def cost(self, n_people: int) -> float:
        """Person-weeks recomputed, plus the fixed cost of a box (``JOB_FIXED_COST``)."""
        return (n_people if self.persons is None else len(self.persons)) * (self.d1 - self.d0 + 1) / 7 \
            + JOB_FIXED_COST


@dataclass
class Plan:
    """What a refresh does. ``jobs`` empty and not ``full``: the results are fresh."""

    full: bool
    jobs: list[Job]
    first_day: int  # the stored range: local days, whole weeks
    last_day: int
    people_fp: dict[str, str]  # person -> schedule fingerprint, for everyone measured now
    drop_people: list[str]
    settings_fp: str
    people_hash: str
    watermark: int  # touched rows up to this seq are consumed
    reasons: list[str] = field(default_factory=list)
    quick: bool = False  # found fresh by the cheap checks alone (state unchanged)
    #: ``resolve_people`` of the people planned for (frame, schedules): the jobs' calendars reuse it
    resolved: tuple[pd.DataFrame, dict] | None = field(default=None, repr=False)
    span_changed: bool = False  # the stored range differs (rows outside it are dropped)
    stored_span: tuple[int, int] | None = None  # the range the stored rows were computed over
    people_changed: bool = True  # ``people_fp`` differs from the stored fingerprints
    #: the measured people (``Engine.people``) the plan was made for: the refresh reuses them
    people: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def fresh(self) -> bool:
        return not self.full and not self.jobs and not self.drop_people and not self.span_changed

    @property
    def may_leave_rows_outside(self) -> bool:
        """Rows outside the new range or of people no longer measured may be stored: a
        full run, people dropped, or a range that no longer holds the stored one (a range
        that only grew, as when a week is added, leaves none)."""
        old = self.stored_span
        shrank = self.span_changed and (old is None or old[0] < self.first_day or old[1] > self.last_day)
        return self.full or bool(self.drop_people) or shrank


def data_version() -> str:
    """Versions of the zone and holiday data the calendars come from."""
    import zoneinfo
    from importlib import metadata
    from pathlib import Path

    parts = []
    for root in zoneinfo.TZPATH:
        zi = Path(root) / "tzdata.zi"
        if zi.exists():
            parts.append(zi.open(encoding="utf-8", errors="replace").readline().strip())
            break
    for pkg in ("tzdata", "holidays"):
        try:
            parts.append(f"{pkg} {metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pass
    return "; ".join(parts)


def settings_fingerprint(config: Config) -> str:
    """Fingerprint of what every stored result depends on: pipeline settings, code, data versions."""
    doc = {"version": RESULTS_VERSION, "data": data_version(),
           "settings": {k: config[k] for k in PIPELINE_SETTINGS}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def people_fingerprints(frame: pd.DataFrame) -> dict[str, str]:
    """person_id -> fingerprint of the resolved schedule (zone, hours, workdays, holidays),
    from the frame of ``localtime.resolve_people`` (hashed once per distinct schedule)."""
    cols = ["tz", "work_start_s", "work_end_s", "workmask", "jurisdiction"]
    if frame.empty:
        return {}
    # one row per distinct schedule: (sched_id, cal_id) is (tz, hours) and (workdays, holidays)
    which = frame.groupby(["sched_id", "cal_id"], sort=False).ngroup().to_numpy()
    firsts = frame[cols].astype(str).groupby(which, sort=False).head(1)
    hashed = np.empty(len(firsts), dtype=object)
    for g, key in zip(which[firsts.index], firsts.itertuples(index=False)):
        hashed[g] = hashlib.sha256("|".join(key).encode()).hexdigest()[:16]
    return dict(zip(frame["person_id"], hashed[which]))


def touched_days(con, frame: pd.DataFrame, offsets, config: Config, seqs: tuple[int, int],
                 span: tuple[int, int]) -> dict[int, set[str]]:
    """Local epoch day -> the people whose day ``metric_touched`` rows in ``seqs`` (lo, hi]
    make stale, in SQL: each touched time range in the person's local
    time (the widest offsets of their zone), widened by the longest e-mail / chat window
    either side (an action shortens the credit of the one before it, and its own part may
    run past midnight), clamped to ``span``.

    Days, not weeks: a week's row is the sum of its day rows, so a new week whose first
    hours fall on some people's local Sunday makes only that Sunday stale for them, not
    their whole previous week.
    """
    zones = pd.DataFrame({"tz": offsets.column("tz").to_pylist(),
                          "off": offsets.column("utc_offset_s").to_pylist()}) if offsets is not None else None
    if zones is None or zones.empty:
        zones = pd.DataFrame({"tz": ["UTC"], "off": [0]})
    rng = zones.groupby("tz")["off"].agg(["min", "max"]).reset_index()
    poff = frame[["person_id", "tz"]].merge(rng, on="tz", how="left")
    poff["min"] = poff["min"].fillna(-DAY_S).astype("int64")  # unknown zone: a day either side
    poff["max"] = poff["max"].fillna(DAY_S).astype("int64")
    slack = int(max(float(config["metrics.chat_session_gap_minutes"]) * 60,
                    float(config["metrics.email_sent_minutes"]) * 60,
                    float(config["metrics.email_received_minutes"]) * 60))
    con.register("_touch_off", poff[["person_id", "min", "max"]])
    try:
        rows = con.execute(f"""
            SELECT day, list(DISTINCT person_id) FROM (SELECT person_id, unnest(range(d0, d1 + 1)) AS day FROM (
              SELECT DISTINCT t.person_id,
                     greatest(CAST(floor((t.lo_s - {slack} + o."min") / {DAY_S}) AS BIGINT), {span[0]}) d0,
                     least(CAST(floor((t.hi_s + {slack} + o."max") / {DAY_S}) AS BIGINT), {span[1]}) d1
              FROM metric_touched t JOIN _touch_off o ON o.person_id = t.person_id
              WHERE t.seq > ? AND t.seq <= ?) WHERE d0 <= d1) GROUP BY day""", list(seqs)).fetchall()
        return {int(day): set(people) for day, people in rows}
    finally:
        con.unregister("_touch_off")


def universe(span: tuple | None) -> tuple[int, int] | None:
    """The stored range for the store's UTC activity span: ±2 days, widened to whole weeks.

    The same range a full ``compute`` builds its calendar over.
    """
    if span is None:
        return None
    first, last = span[0] - timedelta(days=2), span[1] + timedelta(days=2)
    first -= timedelta(days=first.weekday())
    last += timedelta(days=6 - last.weekday())
    return day_number(first), day_number(last)


def margin_days(config: Config) -> int:
    """Whole days of activity read either side of a box's local dates.

    A local date lies within 14 h of its UTC date (the largest zone offset); what can put
    time on it starts at most the longest meeting, chat gap or e-mail credit before it,
    and an e-mail or chat part ends at the next action, at most that long after. One
    day more for safety: 2 days with the default settings.
    """
    longest = max(float(config["metrics.meeting_max_hours"]) * 3600,
                  float(config["metrics.chat_session_gap_minutes"]) * 60,
                  float(config["metrics.email_sent_minutes"]) * 60,
                  float(config["metrics.email_received_minutes"]) * 60,
                  float(config["metrics.chat_message_seconds"]))
    return 1 + math.ceil((14 * 3600 + longest) / DAY_S)


def monday(day: int) -> int:
    return day - (day + 3) % 7


# -- planning -------------------------------------------------------------------------


def _runs(days: list[int], step: int = 1) -> list[tuple[int, int]]:
    """Contiguous runs of days (``step`` 7: of week Mondays), as (first, last)."""
    out: list[tuple[int, int]] = []
    for w in sorted(days):
        if out and w == out[-1][1] + step:
            out[-1] = (out[-1][0], w)
        else:
            out.append((w, w))
    return out


def _same_people_runs(days: dict[int, set[str]]) -> list[tuple[int, int]]:
    """Runs of contiguous days that have the same people, as (first day, last day)."""
    out: list[tuple[int, int]] = []
    for d in sorted(days):
        if out and d == out[-1][1] + 1 and days[d] == days[out[-1][1]]:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _hull(x: Job, y: Job) -> Job:
    """The box covering both (its people a set: ``plan_jobs`` sorts the ones it keeps)."""
    persons = None if x.persons is None or y.persons is None else set(x.persons).union(y.persons)
    return Job(persons, min(x.d0, y.d0), max(x.d1, y.d1))


def _union_size(a: set[str], b: set[str]) -> int:
    """len(a | b) without building the union (the intersection walks the smaller set)."""
    return len(a) + len(b) - len(a & b if len(a) <= len(b) else b & a)


def plan_jobs(everyone_weeks: set[int], person_all: set[str], person_days: dict[int, set[str]],
              span: tuple[int, int], n_people: int) -> list[Job]:
    """Boxes covering every stale person-day: whole people, weeks for everyone, the rest
    (runs of contiguous days with the same people; when there are more than
    ``MAX_JOBS`` of those, runs of contiguous days, each for the union of their people).

    Boxes are then merged while a merged box costs less than the two apart (each box
    has a fixed cost: building and compiling the graph), or while there are more than
    ``MAX_JOBS``.
    """
    jobs = []
    if person_all:
        jobs.append(Job(set(person_all), span[0], span[1]))
    everyone_days: set[int] = set()
    for a, b in _runs(list(everyone_weeks), 7):
        jobs.append(Job(None, a, b + 6))
        everyone_days.update(range(a, b + 7))
    rest = {d: ps - person_all if person_all else ps for d, ps in person_days.items() if d not in everyone_days}
    rest = {d: ps for d, ps in rest.items() if ps}
    runs = _same_people_runs(rest)
    if len(runs) > MAX_JOBS:  # many different days: contiguous days as one box each
        runs = _runs(list(rest))
    for a, b in runs:
        jobs.append(Job(set().union(*(rest[d] for d in range(a, b + 1) if d in rest)), a, b))
    jobs = _merge(jobs, n_people)
    jobs = [j if j.persons is None else Job(sorted(j.persons), j.d0, j.d1) for j in jobs]
    return sorted(jobs, key=lambda j: (j.d0, j.d1))


def _merge(jobs: list[Job], n_people: int) -> list[Job]:
    """Merge the pair of boxes that gains most (cost of the two apart minus their hull's),
    again and again, while a merge gains or there are more than ``MAX_JOBS`` boxes.

    Each pair's gain is computed once (a merge only adds the pairs of the new box), from
    the size of its union of people; only the chosen pair's union is built: building
    every pair's union again after each merge was most of the planning time (10,000
    people: 0.05 s). Pairs are visited in the same order as then, ties go to the first.
    """
    boxes = list(enumerate(jobs))  # (number, box): a merged box gets the next number
    cost = {n: j.cost(n_people) for n, j in boxes}
    gains: dict[tuple[int, int], float] = {}

    def gain(x: tuple[int, Job], y: tuple[int, Job]) -> float:
        key = (x[0], y[0])
        if key not in gains:
            a, b = x[1], y[1]
            people = None if a.persons is None or b.persons is None else _union_size(a.persons, b.persons)
            hull = Job(None, min(a.d0, b.d0), max(a.d1, b.d1))
            gains[key] = cost[x[0]] + cost[y[0]] - hull.cost(n_people if people is None else people)
        return gains[key]

    while len(boxes) > 1:
        best = None
        for i in range(len(boxes)):
            for k in range(i + 1, len(boxes)):
                g = gain(boxes[i], boxes[k])
                if best is None or g > best[0]:
                    best = (g, i, k)
        g, i, k = best
        if g <= 0 and len(boxes) <= MAX_JOBS:
            break
        number = len(cost)
        hull = _hull(boxes[i][1], boxes[k][1])
        boxes = [b for n, b in enumerate(boxes) if n not in (i, k)] + [(number, hull)]
        cost[number] = hull.cost(n_people)
    return [j for _, j in boxes]


# -- running --------------------------------------------------------------------------


def run_job(engine: Engine, people: pd.DataFrame, offsets, config: Config, job: Job,
            span: tuple[int, int], full: bool,
            resolved: tuple[pd.DataFrame, dict] | None = None) -> Iterator[tuple[Any, pd.DataFrame]]:
    """The long rows of ``job``'s box, one batch of people at a time.

    Yields (DuckDB relation of the compact rows ``Parts.rows``: person_id as the int
    ``pk``, day, name, value, after; the calendar's people frame mapping ``pk`` to ``person_id``). The rows are
    summed and pivoted where they are written (``results``), in DuckDB. ``full``: the
    box is the whole stored range, computed exactly like ``compute`` (no window).

    On DuckDB, batches of everyone (contiguous ranges of the int key) come from one
    build of the graph, its SQL replayed for each batch (``worklife.metrics.replay``);
    a box of listed people builds its graph per batch. A box's window and days are
    DuckDB variables (``pipeline.WINDOW_VARIABLES``) and a box of listed people in one
    batch reads them from a table (``pipeline.PeopleTable``), so a box in one batch has
    the same SQL as any other of its shape: kept in this user's cache, the next one plays it
    without building or compiling the graph (``worklife.metrics.sqlcache``).
    """
    if full:
        first, last, window = day_date(span[0]), day_date(span[1]), None
    else:
        m = margin_days(config)
        first, last = day_date(job.d0 - m), day_date(job.d1 + m)
        window = ((job.d0 - m) * DAY_S, (job.d1 + 1 + m) * DAY_S)
    cal = LocalCalendar.build(people, offsets, first, last, config, resolved)
    ids = job.persons if job.persons is not None else cal.people_frame["person_id"].tolist()
    known = set(cal.people_frame["person_id"])
    ids = [p for p in ids if p in known]
    size = int(config["metrics.batch_people"])
    weeks = max(1, (job.d1 - job.d0 + 1) // 7)
    all_weeks = max(1, (span[1] - span[0] + 1) // 7)
    size = size * max(1, all_weeks // weeks) if size > 0 else len(ids)  # a batch ~ person-weeks
    replayable = engine.name == "duckdb" and engine.store is not None
    boxed = replayable and window is not None  # the box's window and days in DuckDB variables
    base = MetricRun(engine, cal, config, None, utc_window=WINDOW_VARIABLES if boxed else window)
    groups = [ids] if size <= 0 or len(ids) <= size else [ids[i:i + size] for i in range(0, len(ids), size)]
    groups = [g for g in groups if g]

    def in_box(parts: Parts) -> Any:  # an Ibis table: the box's days of the compact rows
        d0, d1 = WINDOW_VARIABLES.days() if boxed else (job.d0, job.d1)
        return parts.rows.filter((parts.rows.day >= d0) & (parts.rows.day <= d1))

    bounds = pk_ranges(cal.people_frame, groups) if replayable and job.persons is None and len(groups) > 1 else None
    # a box in one batch: its SQL is the same for every box of its shape (kept: sqlcache),
    # its people read from a table when they are listed
    tables, listed = cal.memtables(), None
    if boxed and len(groups) == 1 and job.persons is not None:
        listed = keys_table(cal.people_frame[cal.people_frame.person_id.isin(groups[0])])
        tables = {**tables, "box_people": listed}
    shape = "box:everyone:1" if job.persons is None else "box:listed:1"
    key = sqlcache.recording_key(engine.store, config, tables, shape) if boxed and len(groups) == 1 else None
    replay = BatchReplay(base, in_box, bounds) if bounds else None
    if boxed:
        set_box(engine.store, window, (job.d0, job.d1))
    try:
        for i, group in enumerate(groups):
            log.info("metrics: box %s..%s, batch %d/%d (%d people)", day_date(job.d0), day_date(job.d1),
                     i + 1, len(groups), len(group))
            if replay is not None:
                with engine.compiling():  # only the first batch builds and compiles
                    rel = replay.batch(i)
                yield rel, cal.people_frame
                replay.free()  # the batch's step tables
                continue
            batch_ids = None if len(groups) == 1 and job.persons is None else group
            if listed is not None:
                batch_ids = PeopleTable(listed)
            part = replace(base, person_ids=batch_ids, _parts=None, batches=len(groups))
            if not replayable:
                with engine.compiling():
                    rel = engine.backend._to_duckdb_relation(in_box(part.parts))
                yield rel, cal.people_frame
                del part, rel
                if len(groups) > 1:
                    gc.collect()  # drops the batch's cached tables (Spark) before the next batch's
                continue
            # on DuckDB the batch's steps are named temporary tables made in one statement
            # each (``StepRecorder``; Ibis's ``cache()`` creates, then inserts), dropped once
            # its rows are read
            recorder, rel, played = _box_relation(part, in_box, key, tables)
            try:
                yield rel, cal.people_frame
                recording = None if played or key is None else recorder.recording()
                if recording is not None:
                    sqlcache.save(key, recording)
            finally:
                recorder.close()
    finally:
        if replay is not None:
            replay.close()
        if boxed:
            set_box(engine.store, None, None)


def _box_relation(part: MetricRun, select: Any, key: str | None,
                  tables: dict[str, Any]) -> tuple[StepRecorder, Any, bool]:
    """A batch's rows through a ``StepRecorder``: (the recorder, the DuckDB relation of
    ``select(part.parts)``, whether it came from the SQL kept under ``key``).

    With ``key``, the SQL kept under it is played when there is one
    (``worklife.metrics.sqlcache``); one that fails is dropped and the graph compiled.
    ``tables``: the in-memory tables the SQL reads by role (``StepRecorder``).
    """
    engine, store = part.engine, part.engine.store
    kept = sqlcache.load(key) if key is not None else None
    if kept is not None:
        recorder = StepRecorder(engine.backend, store, tables)
        try:
            return recorder, recorder.play(kept), True
        except (duckdb.Error, KeyError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("metrics: the kept SQL of a box failed to run (%s); compiling it again", first)
            recorder.close()
            sqlcache.forget(key)
    recorder = StepRecorder(engine.backend, store, tables)
    try:
        with engine.compiling():
            part = replace(part, engine=replace(engine, recorder=recorder))
            return recorder, recorder.finish(select(part.parts)), False
    except BaseException:
        recorder.close()
        raise
