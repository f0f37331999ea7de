"""Reading stored metric results from any consumer: their state, where a number came from,
and a store opened for reading them (docs/metrics.md "Stored results").

    >>> from worklife.metrics.stored import results_state, open_for_reading
    >>> results_state(store, config).describe()
    'stored results, fresh (computed 2026-12-06T13:10:00 UTC)'
    >>> with open_for_reading("w.duckdb", config) as store:   # refreshed first when writable
    ...     df = worklife.metrics.compute(store, config)

``worklife.metrics.results.person_weeks`` is the reader; this module answers the
questions around it that explain, the personal report and the CLI commands ask:

- ``results_state``: are the stored results fresh, stale (and why) or absent; is the
  store open read-only (then stale results are computed in memory, never stored);
- ``stored_row``: one person-week as stored, fresh or not (explain compares its evidence
  with it);
- ``in_memory_note``: the one line said when numbers are computed in memory;
- ``open_for_reading``: open a store for a command that shows metric values: a store
  this user can write has its results brought up to date under the run lock first; one
  they cannot write (another user's) is opened read-only as it is.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from worklife.config import Config
from worklife.store import Store, connect

log = logging.getLogger(__name__)

__all__ = ["ResultsState", "in_memory_note", "open_for_reading", "own_range", "results_state",
           "stored_row", "writable"]

FRESH, STALE, ABSENT = "fresh", "stale", "absent"


@dataclass(frozen=True)
class ResultsState:
    """The stored results of a store, as a reader finds them.

    ``state``: fresh | stale | absent; ``reasons``: why stale or absent (the plan's
    reasons, only the non-zero ones); ``refreshed_utc``: when they were last computed
    (ISO, UTC; None when absent); ``read_only``: the store is open read-only (stale
    results are then computed in memory by readers, never stored).
    """

    state: str
    reasons: list[str] = field(default_factory=list)
    refreshed_utc: str | None = None
    read_only: bool = False

    @property
    def usable(self) -> bool:
        """Readers get stored numbers: fresh, or a writable store (``person_weeks`` refreshes it)."""
        return self.state == FRESH or not self.read_only

    def describe(self) -> str:
        """Where the numbers come from, in words (one phrase)."""
        when = f"computed {self.refreshed_utc} UTC" if self.refreshed_utc else ""
        if self.state == FRESH:
            return f"stored results, fresh ({when})"
        why = "; ".join(self.reasons) or "unknown reason"
        if self.state == STALE:
            return f"stored results, stale ({why}; {when})"
        return f"no stored results ({why})"


def _con(store: Store | duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    return store.con if isinstance(store, Store) else store


def _significant(reasons: list[str]) -> list[str]:
    """The plan's reasons without the '0 …' counts."""
    return [r for r in reasons if not r.startswith("0 ")]


def results_state(store: Store | duckdb.DuckDBPyConnection, config: Config | None = None) -> ResultsState:
    """State of the stored results for ``config`` (nothing is computed or written)."""
    from worklife.metrics.results import _has_tables, _state, plan, read_only

    config = config or Config()
    con = _con(store)
    ro = read_only(con)
    state = _state(con) if _has_tables(con) else {}
    if not state:
        return ResultsState(ABSENT, ["`worklife metrics` has not been run on this store"], None, ro)
    p = plan(con, config)
    when = state.get("refreshed_utc")
    if p.fresh:
        return ResultsState(FRESH, [], when, ro)
    reasons = _significant(p.reasons) or ["the data or the people changed since"]
    return ResultsState(STALE, reasons, when, ro)


def in_memory_note(state: ResultsState, label: str = "this store") -> str:
    """The one line said when a read-only store's numbers are computed in memory."""
    what = "has no stored metric results" if state.state == ABSENT else \
        f"has stale stored metric results ({'; '.join(state.reasons)})"
    cmd = f"`worklife metrics --db {'FILE' if label == 'this store' else label}`"
    if not state.read_only:  # a reader asked not to update (``person_weeks(update=False)``)
        return f"{label} {what}: computing the metrics in memory ({cmd} stores them)"
    return (f"{label} {what} and is open read-only: computing the metrics in memory, not storing them "
            f"({cmd}, run by a user who can write the store, stores them)")


def stored_row(store: Store | duckdb.DuckDBPyConnection, config: Config, person_id: str,
               week: str) -> dict[str, Any] | None:
    """The person-week's metrics as stored (hours), fresh or stale; None when nothing is stored
    for it (no stored results, or the week outside the stored activity range)."""
    from worklife.metrics import METRIC_COLUMNS
    from worklife.metrics.results import _has_tables, _read, _state

    con = _con(store)
    if not _has_tables(con) or not _state(con):
        return None
    df = _read(con, config, [person_id], [week], "week")
    if df.empty:
        return None
    return df.iloc[0][METRIC_COLUMNS].to_dict()


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


def writable(db: str | Path) -> bool:
    """True when this process may write the store file and create its run lock beside it."""
    p = Path(db)
    return os.access(p, os.W_OK) and os.access(p.parent if str(p.parent) else Path("."), os.W_OK)


@contextmanager
def open_for_reading(db: str | Path, config: Config, refresh: bool = True) -> Iterator[Store]:
    """The store opened read-only for a command that shows metric values.

    ``refresh`` and a store this user can write: its stored results are brought up to
    date first (only what is stale; under the run lock, ``LockHeld`` when another run
    writes the store). A store they cannot write (another user's) is opened read-only as
    it is: readers compute stale or absent results in memory (correct, slower, not
    stored), each saying so in one line (``in_memory_note``).
    """
    from worklife.metrics.results import refresh as refresh_results

    if refresh:
        with connect(db, read_only=True, create=False) as store:  # a worklife store? results fresh?
            fresh = results_state(store, config).state == FRESH
        if not fresh and writable(db):
            from worklife.runlock import store_lock

            with store_lock(db), connect(db, create=False) as store:
                refresh_results(store, config)
    with connect(db, read_only=True, create=False) as store:
        yield store
