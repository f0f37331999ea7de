"""Stored metric results: computed once, updated where stale, read by everything else.

    >>> from worklife.metrics import person_weeks                # also takes a store path
    >>> df = person_weeks(store, config)                         # every person-week
    >>> person_weeks(store, config, persons=["alice@example.com"], weeks=["2025-W13"])

``person_weeks`` is THE way to read person-week (or person-day) metrics: ``compute``,
reports, digests, exports and the web app call it. On a writable store it first brings
the stored results up to date (``refresh``: only the stale person-weeks are recomputed,
see ``worklife.metrics.incremental``), then reads them. Tables (created on first use):

- ``metric_days``:  person_id, day (local epoch day), the int sums of ``LONG_NAMES``
  (seconds or counts), settings_fp, watermark;
- ``metric_weeks``: the same per week (``week_day`` = epoch day of the local Monday);
- ``metric_people``: person_id, fp (the resolved schedule the rows were computed with);
- ``metric_state``: key/value — settings_fp, people_hash, first_day, last_day,
  watermark (the last ``metric_touched`` row consumed), refreshed_utc.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from worklife import touched
from worklife.config import Config
from worklife.metrics import boxweeks, finalize_frame, grid_frame, incremental, on_grid, pipeline
from worklife.metrics.engine import open_backend, store_reader
from worklife.metrics.freshness import ABSENT, FRESH, STALE, ResultsState, in_memory_note
from worklife.metrics.incremental import (
    Job,
    Plan,
    people_fingerprints,
    plan_jobs,
    run_job,
    settings_fingerprint,
    touched_days,
    universe,
)
from worklife.metrics.localtime import day_date, iso_week_label, resolve_people
from worklife.metrics.pipeline import LONG_NAMES
from worklife.metrics.resources import checkpoint_deferred, limited
from worklife.store import Store

log = logging.getLogger(__name__)

__all__ = ["Refreshed", "person_weeks", "plan", "refresh", "results_state", "stored_row"]

_LONG_DDL = ", ".join(f"{n} BIGINT NOT NULL" for n in LONG_NAMES)
_DDL = (
    ("CREATE TABLE IF NOT EXISTS metric_days (person_id VARCHAR NOT NULL, day INTEGER NOT NULL, "
     f"{_LONG_DDL}, settings_fp VARCHAR, watermark BIGINT)"),
    ("CREATE TABLE IF NOT EXISTS metric_weeks (person_id VARCHAR NOT NULL, week_day INTEGER NOT NULL, "
     f"{_LONG_DDL}, settings_fp VARCHAR, watermark BIGINT)"),
    "CREATE TABLE IF NOT EXISTS metric_people (person_id VARCHAR NOT NULL, fp VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS metric_state (key VARCHAR PRIMARY KEY, value VARCHAR)",
)


@dataclass
class Refreshed:
    """What ``refresh`` did: jobs run, rows written, seconds, and why."""

    full: bool
    jobs: int
    person_days: int
    seconds: float
    reasons: list[str]

    @property
    def fresh(self) -> bool:
        return not self.full and self.jobs == 0


def _con(store: Store | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    return store.con if isinstance(store, Store) else store


def read_only(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT readonly FROM duckdb_databases() "
                            "WHERE database_name = current_database()").fetchall()[0][0])


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return touched.active(con)


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    if not _has_tables(con):
        return {}
    return dict(con.execute("SELECT key, value FROM metric_state").fetchall())


#: Settings that fill a person's missing schedule fields (``workcal``): part of ``people_hash``
DEFAULT_SETTINGS = ("defaults.tz", "defaults.work_start", "defaults.work_end", "defaults.workdays",
                    "defaults.jurisdiction")


def people_hash(con: duckdb.DuckDBPyConnection, config: Config | None = None) -> str:
    """Cheap fingerprint of the whole people table and, with ``config``, of the org defaults
    that fill its missing fields (a change → compare schedules person by person)."""
    row = con.execute("SELECT md5(coalesce(string_agg(md5(CAST(p AS VARCHAR)), ',' ORDER BY person_id), '')) "
                      "FROM people p").fetchall()[0][0]
    if config is None:
        return str(row)
    defaults = "|".join(f"{k}={config[k]}" for k in DEFAULT_SETTINGS)
    return hashlib.md5(f"{row}|{defaults}".encode()).hexdigest()


def _watermark(con: duckdb.DuckDBPyConnection) -> int:
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'metric_touched' "
                       "AND schema_name = 'main' AND NOT temporary").fetchall()[0][0]:
        return 0
    return int(con.execute("SELECT coalesce(max(seq), 0) FROM metric_touched").fetchall()[0][0])


def plan(store: Store | duckdb.DuckDBPyConnection, config: Config | None = None, full: bool = False) -> Plan:
    """What is stale in the stored results (nothing is computed or written)."""
    config = config or Config()
    con = _con(store)
    eng = store_reader(con, _label(store))  # small reads: no Ibis
    state = _state(con)
    span = universe(eng.span_dates()) or (0, -1)
    # touched rows consumed by the last refresh are deleted: an empty table is still at its watermark
    settings_fp, p_hash = settings_fingerprint(config), people_hash(con, config)
    mark = _watermark(con) or int(state.get("watermark", 0) or 0)
    stored_span = (int(state["first_day"]), int(state["last_day"])) if state.get("first_day") else None
    quick = (state and not full and state.get("settings_fp") == settings_fp
             and state.get("people_hash") == p_hash and stored_span == span
             and int(state.get("watermark", -1)) == mark)
    if quick:
        stored = dict(con.execute("SELECT person_id, fp FROM metric_people").fetchall())
        return Plan(False, [], *span, stored, [], settings_fp, p_hash, mark, quick=True)
    people = eng.people()
    resolved = resolve_people(people, config) if len(people) and span[1] >= span[0] else None
    fps, frame = (people_fingerprints(resolved[0]), resolved[0]) if resolved else ({}, None)
    p = Plan(False, [], *span, fps, [], settings_fp, p_hash, mark, resolved=resolved, people=people)
    if not fps:
        p.full, p.reasons = True, ["no activity or no people: results emptied"]
        return p
    if full or not state or state.get("settings_fp") != settings_fp:
        p.full = True
        p.reasons = ["--full" if full else "no stored results" if not state else
                     "settings, metric code or zone/holiday data changed"]
        return p
    stored = dict(con.execute("SELECT person_id, fp FROM metric_people").fetchall())
    p.stored_span, p.people_changed = stored_span, stored != fps
    p.drop_people = sorted(set(stored) - set(fps))
    person_all = {pid for pid, fp in fps.items() if stored.get(pid) != fp}
    everyone: set[int] = set()
    p.span_changed = stored_span != span
    if stored_span != span:
        old = stored_span or (0, -1)
        everyone = {w for w in range(span[0], span[1] + 1, 7) if not (old[0] <= w <= old[1])}
    per_day = touched_days(con, frame, eng.tz_offsets(), config, (int(state.get("watermark", 0)), mark), span)
    n_touched = sum(len(ps) for ps in per_day.values())
    per_day = {d: ps - person_all for d, ps in per_day.items()}
    p.jobs = plan_jobs(everyone, person_all, per_day, span, len(fps))
    p.reasons = [f"{len(person_all)} people with a new or changed schedule",
                 f"{len(everyone)} new weeks", f"{n_touched} person-days touched by ingest",
                 f"{len(p.drop_people)} people no longer measured"]
    whole = Job(None, *span).cost(len(fps))
    if sum(j.cost(len(fps)) for j in p.jobs) > incremental.FULL_SHARE * whole:
        p.full, p.jobs = True, []
        p.reasons.append("the stale part is most of the store: full run")
    return p


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL:
        con.execute(ddl)
    touched.ensure(con)


def _box_who(con: duckdb.DuckDBPyConnection, job: Job) -> str:
    """SQL condition on ``person_id``: the box's people (their ids registered as ``_box_people``)."""
    if job.persons is None:
        return "TRUE"
    con.register("_box_people", pd.DataFrame({"person_id": pd.Series(job.persons, dtype=object)}))
    return "person_id IN (SELECT person_id FROM _box_people)"


def _delete_box(con: duckdb.DuckDBPyConnection, job: Job, who: str) -> None:
    con.execute(f"DELETE FROM metric_days WHERE day BETWEEN ? AND ? AND {who}", [job.d0, job.d1])


def _pivot_sql(table: str) -> str:
    """SELECT of ``metric_days`` rows (pk, then ``LONG_NAMES`` in order) from a table of
    ``Parts.rows``: the kinds' rows (``after`` set) and the other rows pivoted apart, then
    joined on (person, day) — a third of the aggregate updates of one pivot of every long
    row (measured: docs/performance.md, pass 6)."""
    kinds = pipeline.KINDS
    by_kind = ", ".join(f"sum(CASE WHEN name = '{k}' THEN value END) AS {k}_s, "
                        f"sum(CASE WHEN name = '{k}' THEN after END) AS {k}_after_s" for k in kinds)
    kind_cols = {f"{k}_s" for k in kinds} | {f"{k}_after_s" for k in kinds}
    others = [n for n in LONG_NAMES if n not in kind_cols]
    by_name = ", ".join(f"sum(CASE WHEN name = '{n}' THEN value END) AS {n}" for n in others)
    cols = ", ".join(f"CAST(coalesce({n}, 0) AS BIGINT)" for n in LONG_NAMES)
    return (f"SELECT person_id AS pk, CAST(day AS INTEGER) AS day, {cols} FROM "
            f"(SELECT person_id, day, {by_kind} FROM {table} WHERE after IS NOT NULL GROUP BY person_id, day) "
            f"FULL JOIN (SELECT person_id, day, {by_name} FROM {table} WHERE after IS NULL "
            "GROUP BY person_id, day) USING (person_id, day)")


def _write_rows(con: duckdb.DuckDBPyConnection, rel: Any, people_frame: pd.DataFrame, p: Plan,
                job_no: int) -> None:
    """Pivot one batch's rows (``Parts.rows``) into ``STAGING``, in DuckDB (no pandas).

    The rows are written to a temporary table first and pivoted from there: DuckDB
    took 30-40 % more CPU to pivot them straight out of the pipeline (a 2,000-person
    batch: 17.6 CPU s against 10.3 + 2.6, docs/performance.md, pass 6).
    """
    con.register("_pk_map", people_frame[["pk", "person_id"]])
    try:
        rel.query("_batch_rel", "CREATE OR REPLACE TEMP TABLE _batch_rows AS SELECT * FROM _batch_rel")
        con.execute(
            f"INSERT INTO {STAGING} SELECT CAST(m.person_id AS VARCHAR), w.* EXCLUDE (pk), '{p.settings_fp}', "
            f"CAST({int(p.watermark)} AS BIGINT), CAST({int(job_no)} AS INTEGER) FROM ({_pivot_sql('_batch_rows')}) w "
            "JOIN _pk_map m ON m.pk = w.pk")
    finally:
        con.execute("DROP TABLE IF EXISTS _batch_rows")
        con.unregister("_pk_map")


def _write_weeks(con: duckdb.DuckDBPyConnection, job: Job, p: Plan) -> None:
    """``metric_weeks`` of the weeks a box's days fall in, summed again from ``metric_days``
    (the box's new day rows and the stored ones of the same weeks): a full run's weeks
    (an incremental box's: ``boxweeks``, which does not read the stored day rows)."""
    who = "TRUE" if job.persons is None else "person_id IN (SELECT person_id FROM _box_people)"
    w0, w1 = incremental.monday(job.d0), incremental.monday(job.d1)
    con.execute(f"DELETE FROM metric_weeks WHERE week_day BETWEEN ? AND ? AND {who}", [w0, w1])
    sums = ", ".join(f"CAST(sum({n}) AS BIGINT)" for n in LONG_NAMES)
    con.execute(f"INSERT INTO metric_weeks SELECT person_id, CAST(day - (day + 3) % 7 AS INTEGER), {sums}, ?, ? "
                f"FROM metric_days WHERE day BETWEEN ? AND ? AND {who} GROUP BY person_id, day - (day + 3) % 7",
                [p.settings_fp, p.watermark, w0, w1 + 6])


#: where a refresh's new day rows wait, outside the transaction, until it commits them
STAGING = "metric_days_staging"


def _stage(con: duckdb.DuckDBPyConnection, p: Plan, eng, people: pd.DataFrame, config: Config,
           jobs: list[Job]) -> None:
    """Compute every job's day rows into ``STAGING`` (column ``job_no`` says whose).

    Outside the transaction on purpose: DuckDB frees a batch's temporary tables only when
    the transaction that dropped them ends, so computing inside one transaction kept every
    batch's tables in memory (2.7 GB spilled to disk by the fifth batch of 2,000 people).
    A full run stages in the store file (2.6 M rows at 10,000 x 52); an incremental one
    in a temporary table: written to the store, its rows went through the write-ahead
    log twice and set off a checkpoint of their own (docs/performance.md, pass 7).
    """
    offsets = eng.tz_offsets()
    con.execute(f"DROP TABLE IF EXISTS {STAGING}")
    kind = "TABLE" if p.full else "TEMP TABLE"
    con.execute(f"CREATE {kind} {STAGING} AS SELECT *, CAST(0 AS INTEGER) AS job_no FROM metric_days LIMIT 0")
    for i, job in enumerate(jobs):
        for rel, people_frame in run_job(eng, people, offsets, config, job, (p.first_day, p.last_day), p.full,
                                         p.resolved):
            _write_rows(con, rel, people_frame, p, i)


def _apply(con: duckdb.DuckDBPyConnection, p: Plan, eng, people: pd.DataFrame, config: Config) -> int:
    """Run the plan's jobs, then, in one transaction, replace their boxes with the new rows."""
    n = 0
    jobs = [] if p.first_day > p.last_day else [Job(None, p.first_day, p.last_day)] if p.full else p.jobs
    try:
        # an incremental box's tables are temporary: no checkpoint compresses them meanwhile
        with nullcontext() if p.full else checkpoint_deferred(con):
            _stage(con, p, eng, people, config, jobs)
        con.execute("BEGIN")
        try:
            n = _commit_rows(con, p, jobs)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {STAGING}")
    return n


def _commit_rows(con: duckdb.DuckDBPyConnection, p: Plan, jobs: list[Job]) -> int:
    """The staged rows into ``metric_days`` and their weeks into ``metric_weeks``, box by box
    (a later box that overlaps an earlier one replaces the overlap), then the state."""
    n = 0
    if p.full:
        con.execute("DELETE FROM metric_days")
        con.execute("DELETE FROM metric_weeks")
    for i, job in enumerate(jobs):
        who = _box_who(con, job)
        if not p.full:
            boxweeks.save_old(con, job, who)
        _delete_box(con, job, who)
        n += int(con.execute(f"INSERT INTO metric_days SELECT * EXCLUDE (job_no) FROM {STAGING} WHERE job_no = ?",
                             [i]).fetchall()[0][0])
        if p.full:  # a day's rows sum into its own week: weeks stay exact
            _write_weeks(con, job, p)
        else:  # the same sums, from the staged rows and the stored weeks (boxweeks)
            boxweeks.write(con, job, who, STAGING, i, p.settings_fp, p.watermark)
    boxweeks.drop(con)
    keep = sorted(p.people_fp)
    con.register("_keep", pd.DataFrame({"person_id": pd.Series(keep, dtype=object),
                                        "fp": pd.Series([p.people_fp[k] for k in keep], dtype=object)}))
    if p.may_leave_rows_outside:  # rows outside the range or of people gone
        for t, col in (("metric_days", "day"), ("metric_weeks", "week_day")):
            con.execute(f"DELETE FROM {t} WHERE {col} NOT BETWEEN ? AND ? OR person_id NOT IN "
                        "(SELECT CAST(person_id AS VARCHAR) FROM _keep)", [p.first_day, p.last_day])
    if p.people_changed:
        con.execute("DELETE FROM metric_people")
        con.execute("INSERT INTO metric_people SELECT CAST(person_id AS VARCHAR), CAST(fp AS VARCHAR) FROM _keep")
    con.unregister("_keep")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    state = {"settings_fp": p.settings_fp, "people_hash": p.people_hash, "first_day": p.first_day,
             "last_day": p.last_day, "watermark": p.watermark, "refreshed_utc": now}
    con.execute("DELETE FROM metric_state")
    con.executemany("INSERT INTO metric_state VALUES (?, ?)", [[k, str(v)] for k, v in state.items()])
    con.execute("DELETE FROM metric_touched WHERE seq <= ?", [p.watermark])
    return n


def _mark_fresh(con: duckdb.DuckDBPyConnection, p: Plan) -> None:
    """Nothing to recompute: record the people hash and watermark, so the next check is quick."""
    con.execute("BEGIN")
    try:
        for key, value in (("people_hash", p.people_hash), ("watermark", p.watermark)):
            con.execute("INSERT OR REPLACE INTO metric_state VALUES (?, ?)", [key, str(value)])
        con.execute("DELETE FROM metric_touched WHERE seq <= ?", [p.watermark])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def refresh(store: Store | duckdb.DuckDBPyConnection, config: Config | None = None,
            full: bool = False) -> Refreshed:
    """Bring the stored results up to date: recompute only the stale person-weeks.

    ``full``: recompute everything (``worklife metrics --full``). Needs a writable store;
    the whole update is one transaction (an interrupted run leaves the previous results),
    run with DuckDB's memory limit at most ``metrics.memory_limit``.
    """
    config = config or Config()
    con = _con(store)
    t0 = time.perf_counter()
    _ensure(con)
    p = plan(con, config, full)
    if p.fresh:
        if not p.quick:  # e.g. a team changed, or ingest touched only people not measured
            _mark_fresh(con, p)
        return Refreshed(False, 0, 0, time.perf_counter() - t0, ["up to date"])
    eng = open_backend(con)
    people = p.people if p.people is not None else eng.people()  # read once, by the plan
    with limited(con, config):  # metrics.memory_limit: not DuckDB's 80 % of RAM
        n = _apply(con, p, eng, people, config)
    log.info("metrics: stored %d person-days (%s)", n, "; ".join(p.reasons))
    return Refreshed(p.full, 1 if p.full else len(p.jobs), n, time.perf_counter() - t0, p.reasons)


# -- reading ----------------------------------------------------------------------------


def _periods(lo: int, hi: int, period: str) -> pd.DataFrame:
    if period == "week":
        days = list(range(lo, hi + 1, 7))
        return pd.DataFrame({"day": days, "week": [iso_week_label(day_date(d)) for d in days],
                             "week_start": [day_date(d) for d in days]})
    days = list(range(lo, hi + 1))
    return pd.DataFrame({"day": days, "date": [day_date(d) for d in days],
                         "week": [iso_week_label(day_date(d)) for d in days]})


def _read(con: duckdb.DuckDBPyConnection, config: Config, persons: Sequence[str] | None,
          weeks: Sequence[str] | None, period: str) -> pd.DataFrame:
    table, col = ("metric_weeks", "week_day") if period == "week" else ("metric_days", "day")
    people = [r[0] for r in con.execute("SELECT person_id FROM metric_people ORDER BY person_id").fetchall()]
    lo, hi = con.execute(f"SELECT min({col}), max({col}) FROM {table} "
                         "WHERE collab_s > 0 OR blocks > 0").fetchall()[0]
    if lo is None or not people:
        return finalize_frame(pd.DataFrame(), [], pd.DataFrame(), config, period)
    periods = _periods(int(lo), int(hi), period)
    if weeks is not None:
        periods = periods[periods["week"].isin(list(weeks))].reset_index(drop=True)
    if persons is not None:
        wanted = set(persons)
        people = [p for p in people if p in wanted]
    sums = _grid_sums(con, table, col, people, periods["day"].tolist())
    return grid_frame(sums, people, periods, config, period)


def _grid_sums(con: duckdb.DuckDBPyConnection, table: str, col: str, people: list[str],
               days: list[int]) -> dict[str, np.ndarray]:
    """The stored sums of ``people`` × ``days`` (epoch days: days, or week Mondays) on that
    grid (``on_grid``: place person index × len(days) + day index), zero where none is stored.

    DuckDB joins the rows to the grid's indexes and returns Arrow batches, each written
    into the grid as it is: no person-id string per row crosses into Python (reading
    them as strings and placing them with pandas took 0.5-0.7 s for 530,000 person-weeks,
    docs/performance.md, pass 7).
    """
    con.register("_grid_people", pa.table({"person_id": pa.array(people, pa.string()),
                                           "i": pa.array(range(len(people)), pa.int64())}))
    con.register("_grid_days", pa.table({"day": pa.array(days, pa.int64()),
                                         "t": pa.array(range(len(days)), pa.int64())}))
    try:
        rows = con.sql(f"SELECT p.i * {len(days)} + g.t AS pos, {', '.join(LONG_NAMES)} FROM {table} w "
                       "JOIN _grid_people p ON p.person_id = w.person_id "
                       f"JOIN _grid_days g ON g.day = w.{col}").to_arrow_table()
    finally:
        con.unregister("_grid_people")
        con.unregister("_grid_days")
    batches = ((b.column("pos").to_numpy(), {n: b.column(n).to_numpy() for n in LONG_NAMES})
               for b in rows.to_batches())
    return on_grid(len(people) * len(days), batches)


def person_weeks(store: Store | duckdb.DuckDBPyConnection | str | Path, config: Config | None = None,
                 persons: Sequence[str] | None = None, weeks: Sequence[str] | None = None,
                 period: str = "week", update: bool = True) -> pd.DataFrame:
    """Person-week metrics (or person-day with ``period="day"``), from the stored results.

    ``store``: a Store or a DuckDB connection (a store path: ``worklife.metrics.person_weeks``,
    which opens it as described below and calls this). ``persons``: person ids to
    return (None: everyone measured). ``weeks``: ISO week labels such as ``"2025-W13"``
    (None: every week). Returns the frame of ``worklife.metrics.compute(by="person")``:
    person_id, week, week_start (or person_id, date, week), then ``METRIC_COLUMNS``
    (hours unless the name says otherwise), zero-filled over every measured person and
    every period between the store's first and last active one, sorted by person and period.

    With ``update`` and a writable store, stale parts are recomputed and stored first
    (``refresh``; cheap when nothing changed: a few small queries). On a read-only store
    (or ``update=False``) fresh stored results are read as they are; stale ones are not
    used: the metrics are then computed in memory from the raw tables (slow, correct),
    and a warning says to run ``worklife metrics --db FILE`` to store them.

    A Store or connection is used as given (no lock is taken: the caller owns it). A
    store **path** is opened and closed here: with ``update`` and a path this user can
    write, the stored results are refreshed first under the store's run lock
    (``worklife.metrics.stored.refresh_if_writable``; ``LockHeld`` while another run
    writes it); then the store is opened read-only and read as above, so a path they
    cannot write (or ``update=False``) is read as it is.

    For a server (the web app): open the store per request — read-only when the nightly
    ``worklife metrics --refresh-only`` keeps results fresh — and close it; a DuckDB
    connection must not be shared between threads, and a process holding the file open
    keeps ingest from writing it (docs/operations.md).
    """
    config = config or Config()
    if isinstance(store, (str, Path)):  # opening a path takes the run lock: a module above this one
        raise TypeError(f"{store}: give a store path to worklife.metrics.person_weeks, which opens it")
    con = _con(store)
    if update and not read_only(con):
        refresh(con, config)
    elif not _has_tables(con) or not plan(con, config).fresh:
        log.warning(in_memory_note(results_state(con, config), _label(store)))
        return _in_memory(con, config, persons, weeks, period)
    return _read(con, config, persons, weeks, period)


def results_state(store: Store | duckdb.DuckDBPyConnection, config: Config | None = None) -> ResultsState:
    """Fresh, stale (and why) or absent: the stored results for ``config`` (nothing is written)."""
    config = config or Config()
    con = _con(store)
    ro = read_only(con)
    state = _state(con)
    if not state:
        return ResultsState(ABSENT, ["`worklife metrics` has not been run on this store"], None, ro)
    p = plan(con, config)
    if p.fresh:
        return ResultsState(FRESH, [], state.get("refreshed_utc"), ro)
    reasons = [r for r in p.reasons if not r.startswith(("0 ", "the stale part"))]  # what changed, not how
    reasons = reasons or ["the data or the people changed since"]
    return ResultsState(STALE, reasons, state.get("refreshed_utc"), ro)


def stored_row(store: Store | duckdb.DuckDBPyConnection, config: Config, person_id: str,
               week: str) -> dict[str, Any] | None:
    """One person-week's metrics as stored (hours), fresh or stale, never recomputed; None
    when nothing is stored for it (no stored results, or the week outside their range)."""
    from worklife.metrics import METRIC_COLUMNS

    con = _con(store)
    if not _state(con):
        return None
    df = _read(con, config, [person_id], [week], "week")
    return None if df.empty else df.iloc[0][METRIC_COLUMNS].to_dict()


def _label(store: Store | duckdb.DuckDBPyConnection) -> str:
    """The store's path for messages ('this store' for a bare connection or in memory)."""
    path = getattr(store, "path", None)
    return str(path) if path and str(path) != ":memory:" else "this store"


def _in_memory(con: duckdb.DuckDBPyConnection, config: Config, persons: Sequence[str] | None,
               weeks: Sequence[str] | None, period: str) -> pd.DataFrame:
    from worklife.metrics import person_metrics, prepare

    with limited(con, config):
        df = person_metrics(prepare(con, config), period)
    if persons is not None:
        df = df[df["person_id"].isin(list(persons))]
    if weeks is not None:
        df = df[df["week"].isin(list(weeks))]
    return df.reset_index(drop=True)
