"""Person-week work-pattern metrics (docs/metrics.md), as Ibis expressions on DuckDB.

    >>> from worklife.metrics import compute
    >>> df = compute(store, config)                      # one row per person-week
    >>> compute(store, config, by="team", period="day")  # roll-ups, privacy applied

Modules, one metric family each: ``localtime`` (local dates, working time: the public
building blocks), ``intervals`` (union, coverage, gaps), ``meetings``, ``messages``,
``span``, ``focus``, ``pipeline`` (the graph), ``rollup``, ``explain``, ``validate``,
``categories`` (work about work), ``viva`` (Viva Insights person query).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics.engine import Engine, open_backend
from worklife.metrics.localtime import LocalCalendar
from worklife.metrics.pipeline import LONG_NAMES, Parts, People, Window, aggregate, build, pivot
from worklife.store import Store

log = logging.getLogger(__name__)

__all__ = ["compute", "prepare", "person_metrics", "summed_rows", "finalize", "finalize_frame", "grid_frame", "on_grid",
           "METRIC_COLUMNS",
           "MetricRun", "person_weeks"]

#: Output metric columns, in order (hours unless the name says otherwise).
METRIC_COLUMNS = [
    "meeting_hours", "conflicting_meeting_hours", "email_hours", "chat_hours",
    "collaboration_hours", "after_hours_meeting_hours", "after_hours_email_hours",
    "after_hours_chat_hours", "after_hours_collaboration_hours", "workweek_span",
    "active_connected_hours", "focus_hours", "uninterrupted_hours", "large_meeting_hours",
    "long_meeting_hours", "large_and_long_meeting_hours", "status_meeting_hours",
    "weekend_days_active", "quiet_days", "over_40h", "meetings", "emails_sent", "chats_sent",
    "weekend_collaboration_hours",
]

_HOURS_FROM = {
    "meeting_hours": "meeting_s", "conflicting_meeting_hours": "conflict_s",
    "email_hours": "email_s", "chat_hours": "chat_s", "collaboration_hours": "collab_s",
    "after_hours_meeting_hours": "meeting_after_s", "after_hours_email_hours": "email_after_s",
    "after_hours_chat_hours": "chat_after_s", "after_hours_collaboration_hours": "collab_after_s",
    "workweek_span": "span_s", "focus_hours": "focus_s", "uninterrupted_hours": "uninterrupted_s",
    "large_meeting_hours": "large_s", "long_meeting_hours": "long_s",
    "large_and_long_meeting_hours": "large_long_s", "status_meeting_hours": "status_s", "weekend_collaboration_hours": "collab_weekend_s",
}


@dataclass
class MetricRun:
    """What a metric run needs: the engine, the calendar and the expression graph.

    ``parts`` (every person's graph) is built on first use: building it runs the cached
    steps, so a batched run (``batched_summed_rows``) never builds it whole.
    """

    engine: Engine
    cal: LocalCalendar
    config: Config
    person_ids: People = None  # None: everyone; PK_VARIABLES: a replayed batch (metrics.replay)
    _parts: Parts | None = None
    _shared: dict = field(default_factory=dict)  # tables every batch reuses (pipeline.build)
    utc_window: Window = None  # read only activity in [lo, hi) epoch seconds (or the box's variables)
    batches: int = 1  # how many batches the people come in (>1: sources are shared between them)

    @property
    def parts(self) -> Parts:
        if self._parts is None:
            self._parts = build(self.engine, self.cal, self.config, self.person_ids, self._shared,
                                self.utc_window, share_sources=self.batches > 1)
        return self._parts


def prepare(store_or_con: Store | duckdb.DuckDBPyConnection | str | Path, config: Config | None = None,
            engine: str = "duckdb", person_ids: list[str] | None = None,
            spark_master: str = "local[*]") -> MetricRun | None:
    """Open the backend and build the calendar; None when the store has no activity."""
    config = config or Config()
    eng = open_backend(store_or_con, engine, spark_master)
    people = eng.people()
    span = eng.span_dates()
    if span is None or people.empty:
        return None
    cal = LocalCalendar.build(people, eng.tz_offsets(), span[0] - timedelta(days=2),
                              span[1] + timedelta(days=2), config)
    return MetricRun(eng, cal, config, person_ids)


def _empty(period: str) -> pd.DataFrame:
    keys = ["person_id", "week", "week_start"] if period == "week" else ["person_id", "date", "week"]
    return pd.DataFrame(columns=keys + METRIC_COLUMNS)


def finalize(raw: pd.DataFrame, run: MetricRun, period: str) -> pd.DataFrame:
    """Zero-fill the person × period grid over the activity range; convert to hours."""
    key = "week" if period == "week" else "date"
    raw = raw.copy()
    for n in LONG_NAMES:
        raw[n] = pd.to_numeric(raw[n]).fillna(0).astype("int64")
    active = raw[(raw["collab_s"] > 0) | (raw["blocks"] > 0)]
    if active.empty:
        return _empty(period)
    days = run.engine.execute(run.cal.days)
    lo, hi = active["week" if period == "week" else "date"].agg(["min", "max"])
    if period == "week":
        periods = days[["week", "week_start"]].drop_duplicates()
        periods = periods[(periods.week >= lo) & (periods.week <= hi)]
    else:
        periods = days[["date", "week"]]
        periods = periods[(periods.date >= lo) & (periods.date <= hi)]
    people = run.cal.people_frame["person_id"].tolist()
    return finalize_frame(raw, people, periods, run.config, period, on=key)


def finalize_frame(raw: pd.DataFrame, people: list[str], periods: pd.DataFrame, config: Config,
                   period: str, on: str = "day") -> pd.DataFrame:
    """Person × period grid (``people`` × ``periods`` rows) with ``raw`` int sums, in hours.

    ``raw``: person_id, ``on``, ``LONG_NAMES`` (a frame, or a dict of equal-length
    arrays such as DuckDB's ``fetchnumpy()``), at most one row per (person, period);
    ``periods``: ``on`` and the labels (week, week_start or date, week). Missing
    person-periods are zeros. Each row is placed on the grid by position (``grid_frame``).
    """
    if not people or periods.empty:
        return _empty(period)
    people = list(people)
    periods = periods.reset_index(drop=True)
    placed = []
    if len(raw) and len(raw["person_id"]):
        pi = pd.Index(people).get_indexer(pd.Index(raw["person_id"]))
        ti = pd.Index(periods[on]).get_indexer(pd.Index(raw[on]))
        ok = (pi >= 0) & (ti >= 0)
        values = {n: pd.to_numeric(pd.Series(raw[n])).fillna(0).astype("int64").to_numpy()[ok] for n in LONG_NAMES}
        placed.append((pi[ok] * len(periods) + ti[ok], values))
    return grid_frame(on_grid(len(people) * len(periods), placed), people, periods, config, period)


def on_grid(size: int, placed: Iterable[tuple[np.ndarray, Mapping[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """``LONG_NAMES`` -> int64 arrays of ``size`` grid places, zero where nothing is placed.

    ``placed``: pieces of (places, ``LONG_NAMES`` -> the int sums at those places), e.g.
    the record batches of a query, each written straight into the grid (no concatenation).
    """
    sums = {n: np.zeros(size, dtype="int64") for n in LONG_NAMES}
    for pos, values in placed:
        for n in LONG_NAMES:
            sums[n][pos] = values[n]
    return sums


def grid_frame(sums: Mapping[str, np.ndarray], people: list[str], periods: pd.DataFrame,
               config: Config, period: str) -> pd.DataFrame:
    """THE person × period frame of metrics (hours unless the name says otherwise).

    ``sums``: ``LONG_NAMES`` -> int64 sums (seconds or counts) on the grid (``on_grid``):
    place person index × ``len(periods)`` + period index; ``periods``: the labels of each
    period (week, week_start or date, week), in order. Built column by column from arrays
    (no merge, no copy into blocks).
    """
    if not people or periods.empty:
        return _empty(period)
    periods = periods.reset_index(drop=True)
    n_p, n_t = len(people), len(periods)
    cols: dict[str, object] = {"person_id": _repeated_labels(people, np.repeat(np.arange(n_p), n_t))}
    at_period = np.tile(np.arange(n_t), n_p)
    for c in (c for c in periods.columns if c != "day"):
        if c in ("week_start", "date"):
            cols[c] = pd.to_datetime(periods[c]).dt.date.to_numpy(dtype=object)[at_period]
        else:
            cols[c] = _repeated_labels(periods[c].astype(str).tolist(), at_period)
    for col, src in _HOURS_FROM.items():
        cols[col] = sums[src] / 3600.0
    block_h = float(config["metrics.active_block_minutes"]) / 60.0
    cols["active_connected_hours"] = sums["blocks"] * block_h
    cols["weekend_days_active"] = sums["weekend_active"]
    cols["quiet_days"] = (7 if period == "week" else 1) - sums["noisy_day"]
    cols["over_40h"] = sums["span_s"] > float(config["metrics.over_hours_threshold"]) * 3600
    for c in ("meetings", "emails_sent", "chats_sent"):
        cols[c] = sums[c]
    keys = ["person_id", "week", "week_start"] if period == "week" else ["person_id", "date", "week"]
    out = pd.DataFrame({c: cols[c] for c in [*keys, *METRIC_COLUMNS]}, copy=False)
    key = "week" if period == "week" else "date"
    if not (pd.Index(people).is_monotonic_increasing and periods[key].is_monotonic_increasing):
        out = out.sort_values(["person_id", key], kind="stable").reset_index(drop=True)
    return out


def _repeated_labels(labels: list[str], at: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[at]`` as a pandas string array, taken in Arrow (no Python string per row)."""
    return pd.array(pa.array(labels, pa.large_string()).take(pa.array(at)), dtype="str")


def person_metrics(run: MetricRun | None, period: str = "week") -> pd.DataFrame:
    """Execute a prepared run: person rows per week (or day), zero-filled, in hours."""
    if run is None:
        return _empty(period)
    return finalize(batched_summed_rows(run, period), run, period)


def batches(run: MetricRun) -> list[list[str]]:
    """Person ids in batches of ``metrics.batch_people`` (one batch on Spark or when 0)."""
    ids = run.person_ids or run.cal.people_frame["person_id"].tolist()
    size = int(run.config["metrics.batch_people"])
    if run._parts is not None or run.engine.name != "duckdb" or size <= 0 or len(ids) <= size:
        return [ids]
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def batched_summed_rows(run: MetricRun, period: str) -> pd.DataFrame:
    """``summed_rows`` over every person, one batch of people at a time.

    People are independent in every metric, so batches only bound memory: each batch
    builds its graph for its people, runs it, and drops its cached tables before the
    next one starts.
    """
    groups = batches(run)
    if len(groups) == 1:
        return summed_rows(run, period)
    out = []
    for i, ids in enumerate(groups):
        log.info("metrics: batch %d/%d (%d people)", i + 1, len(groups), len(ids))
        part = replace(run, person_ids=ids, _parts=None, batches=len(groups))
        out.append(summed_rows(part, period))
        del part
        gc.collect()  # drops the batch's cached DuckDB tables (Ibis releases them on collection)
    return pd.concat(out, ignore_index=True)


def summed_rows(run: MetricRun, period: str) -> pd.DataFrame:
    """Execute the graph: wide int rows per (person_id string, period)."""
    raw = pivot(run.engine.execute(aggregate(run.parts.long, run.cal, period)), period)
    ids = run.cal.people_frame.set_index("pk")["person_id"]
    raw["person_id"] = raw["person_id"].map(ids)
    return raw


def compute(store_or_con: Store | duckdb.DuckDBPyConnection | str | Path, config: Config | None = None,
            by: str = "person", period: str = "week", weeks: Sequence[str] | None = None,
            engine: str = "duckdb", spark_master: str = "local[*]") -> pd.DataFrame:
    """Metrics per person (or team/org roll-up) and ISO week (or local date).

    ``by``: person | team | org. ``period``: week | day. ``weeks``: keep only these ISO
    weeks (``"2025-W13"``). Person rows: person_id, week, week_start (or date, week),
    then ``METRIC_COLUMNS``. Roll-ups: see ``worklife.metrics.rollup.rollup``; groups
    under ``privacy.min_group_size`` people are suppressed. On DuckDB the person rows
    come from the stored results (``worklife.metrics.results.person_weeks``, only the
    stale ones recomputed): a Store or connection open for writing is updated in place
    (no lock is taken: the caller owns it); one open read-only is read as it is (stale
    or absent results computed in memory, with one ``note:`` line). A store **path** is
    refreshed first when this user can write it, under the store's run lock
    (``worklife.metrics.stored.refresh_if_writable``; ``LockHeld`` while another run
    writes it), then opened read-only and read; a path they cannot write is read as it
    is. ``engine="spark"`` runs the same expressions on PySpark at ``spark_master``
    (docs/scale-out.md); then ``store_or_con`` may also be a directory of Parquet tables.
    """
    config = config or Config()
    if by not in ("person", "team", "org"):
        raise ConfigError(f"--by must be person, team or org, not {by!r}")
    if period not in ("week", "day"):
        raise ConfigError(f"--period must be week or day, not {period!r}")
    size = int(config["metrics.active_block_minutes"])
    if size <= 0 or 1440 % size:
        raise ConfigError(f"metrics.active_block_minutes must divide a day (1440), not {size}")
    from worklife.metrics.stored import is_store_file, open_for_reading

    if engine == "duckdb" and is_store_file(store_or_con):
        with open_for_reading(store_or_con, config) as store:  # refreshed first when writable
            return compute(store, config, by, period, weeks, engine)
    if engine == "duckdb" and not isinstance(store_or_con, (str, Path)):
        df = person_weeks(store_or_con, config, weeks=weeks, period=period)
        if by == "person":
            return df
        from worklife.metrics.rollup import rollup

        return rollup(df, open_backend(store_or_con).people(), by, period, config)
    run = prepare(store_or_con, config, engine, spark_master=spark_master)
    df = person_metrics(run, period)
    if weeks is not None:
        df = df[df["week"].isin(list(weeks))].reset_index(drop=True)
    if by == "person":
        return df
    from worklife.metrics.rollup import rollup

    people = run.cal.people_frame if run is not None else pd.DataFrame(columns=["person_id", "team"])
    return rollup(df, people, by, period, config)


def person_weeks(store: Store | duckdb.DuckDBPyConnection | str | Path, config: Config | None = None,
                 persons: Sequence[str] | None = None, weeks: Sequence[str] | None = None,
                 period: str = "week", update: bool = True) -> pd.DataFrame:
    """Person-week (or person-day) metrics from the stored results: THE reader.

    A Store or connection: ``worklife.metrics.results.person_weeks`` (its docstring has
    the rules). A store **path**: opened here, refreshed first under the store's run lock
    when this user can write it and ``update`` (``worklife.metrics.stored.person_weeks_at``).
    """
    if isinstance(store, (str, Path)):
        from worklife.metrics.stored import person_weeks_at

        return person_weeks_at(store, config, persons, weeks, period, update)
    from worklife.metrics.results import person_weeks as read

    return read(store, config, persons, weeks, period, update)
