"""Reading stored metric results from any consumer: their state, where a number came from,
and a store opened for reading them (docs/metrics.md "Stored results").

    >>> from worklife.metrics.stored import results_state, open_for_reading
    >>> results_state(store, config).describe()
    'stored results, fresh (computed 2026-12-06T13:10:00 UTC)'
    >>> with open_for_reading("w.duckdb", config) as store:   # refreshed first when writable
    ...     df = worklife.metrics.compute(store, config)

``worklife.metrics.results.person_weeks`` is the reader; this module gathers what
explain, the personal report and the CLI commands ask around it:

- ``results_state`` (from ``results``): are the stored results fresh, stale (and why)
  or absent; is the store open read-only (then stale results are computed in memory,
  never stored);
- ``stored_row`` (from ``results``): one person-week as stored, fresh or not (explain
  compares its evidence with it);
- ``in_memory_note`` (from ``freshness``): the one line said when numbers are computed
  in memory;
- ``own_range``: one person's rows kept to their own active weeks;
- ``refresh_if_writable``: THE way to bring a store file's results up to date from
  outside a metric run: under the run lock when this user can write the store, nothing
  when they cannot (``worklife metrics``, ``open_for_reading`` and the library's path
  calls ``compute(path)`` and ``person_weeks(path)`` all use it);
- ``open_for_reading``: open a store for a command that shows metric values: a store
  this user can write has its results brought up to date first (``refresh_if_writable``);
  one they cannot write (another user's) is opened read-only as it is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from worklife.config import Config
from worklife.errors import StoreError
from worklife.metrics.freshness import ABSENT, FRESH, STALE, ResultsState, in_memory_note
from worklife.metrics.results import Refreshed, person_weeks, plan, results_state, stored_row
from worklife.metrics.results import refresh as refresh_results
from worklife.runlock import lock_path, store_lock
from worklife.store import Store, connect

__all__ = ["ABSENT", "FRESH", "STALE", "ResultsState", "in_memory_note", "open_for_reading", "own_range",
           "is_store_file", "refresh_if_writable", "results_state", "stored_row", "writable"]


def own_range(df: pd.DataFrame, period: str = "week") -> pd.DataFrame:
    """One person's rows from their first to their last active period (collaboration or
    active connected hours > 0); none when they were never active.

    The organisation's stored rows are zero-filled over the whole store's range; a
    person's own view (``report --person``, ``metrics --person``) keeps to their own.
    """
    key = "week" if period == "week" else "date"
    active = df[(df["collaboration_hours"] > 0) | (df["active_connected_hours"] > 0)]
    if active.empty:
        return df.iloc[0:0].reset_index(drop=True)
    lo, hi = active[key].min(), active[key].max()
    return df[(df[key] >= lo) & (df[key] <= hi)].reset_index(drop=True)


def is_store_file(source: object) -> bool:
    """True for a store file's path (opened here); False for a Store, a connection or a
    folder of Parquet tables (read by the Spark engine as it is)."""
    return isinstance(source, (str, Path)) and not Path(source).is_dir()


def writable(db: str | Path) -> bool:
    """True when this process may write the store file and create its run lock beside it."""
    p = Path(db)
    return os.access(p, os.W_OK) and os.access(p.parent if str(p.parent) else Path("."), os.W_OK)


def refresh_if_writable(db: str | Path, config: Config, full: bool = False) -> Refreshed | None:
    """Bring the stored results of the store file ``db`` up to date if this user can write it.

    Returns what was done (``Refreshed``; ``fresh`` when nothing was stale), or None when
    this user cannot write the store or its folder (then nothing is done: readers read
    it as it is). Results found fresh by the cheap checks are left without taking the
    lock, so readers of a fresh store never wait for each other; anything else (and
    ``full``: recompute everything) runs ``results.refresh`` under the store's run lock
    (``worklife.runlock``). Raises ``LockHeld`` (exit 75) when another run holds the lock,
    ``StoreError`` when the file is no worklife store.
    """
    if not writable(db):
        return None
    t0 = time.perf_counter()
    if not full and _up_to_date(db, config):
        return Refreshed(False, 0, 0, time.perf_counter() - t0, ["up to date"])
    with store_lock(db), connect(db, create=False) as store:
        return refresh_results(store, config, full=full)


def _up_to_date(db: str | Path, config: Config) -> bool:
    """True when the stored results are fresh by the cheap checks alone (read-only, no lock).

    A store that cannot be opened because another worklife run is writing it raises
    ``LockHeld`` (exit 75, as the lock would); any other open error is raised as it is.
    """
    try:
        with connect(db, read_only=True, create=False) as store:
            p = plan(store, config)
    except StoreError:
        if lock_path(db).exists():  # a run holds the lock (and so the file): LockHeld
            with store_lock(db):
                pass
        raise
    return p.fresh and p.quick


@contextmanager
def open_for_reading(db: str | Path, config: Config, refresh: bool = True) -> Iterator[Store]:
    """The store opened read-only for a command that shows metric values.

    ``refresh`` and a store this user can write: its stored results are brought up to
    date first (``refresh_if_writable``: only what is stale, under the run lock;
    ``LockHeld`` when another run writes the store). A store they cannot write (another
    user's) is opened read-only as it is: readers compute stale or absent results in
    memory (correct, slower, not stored), each saying so in one line (``in_memory_note``).
    """
    if refresh:
        refresh_if_writable(db, config)
    with connect(db, read_only=True, create=False) as store:
        yield store


def person_weeks_at(db: str | Path, config: Config | None = None, persons=None, weeks=None,
                    period: str = "week", update: bool = True) -> pd.DataFrame:
    """``worklife.metrics.results.person_weeks`` of the store file ``db``: refreshed first
    under its run lock when this user can write it and ``update``, then read read-only
    (a store they cannot write, or ``update=False``: read as it is)."""
    config = config or Config()
    with open_for_reading(db, config, refresh=update) as store:
        return person_weeks(store, config, persons, weeks, period, update)
