"""Backend connection: the store's DuckDB through Ibis (default), or PySpark (optional).

``open_backend(store_or_con, engine)`` returns an ``Engine`` holding the Ibis backend,
the canonical tables as Ibis tables and a way to read small tables into Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from worklife.errors import StoreError
from worklife.storage import ENGINES, open_store  # noqa: F401 (ENGINES re-exported)
from worklife.store import Store


@dataclass
class Engine:
    """An Ibis backend over the canonical tables."""

    backend: Any
    duck: duckdb.DuckDBPyConnection  # the store's connection (small reads); prefer ``store``
    name: str = "duckdb"
    store: Store | None = None  # the opened store (``open_store``): its query API serves small reads
    #: while a batch's graph is recorded for replay: its ``StepRecorder`` (``worklife.metrics.replay``)
    recorder: Any = None

    def cache(self, expr: Any, run_wide: bool = False) -> Any:
        """Materialise an intermediate table (DuckDB temp table, Spark local checkpoint).

        While a batch is recorded (``recorder``), a step of the batch becomes a named
        temporary table whose statements are replayed for the next batches; a
        ``run_wide`` table (one every batch reads, ``pipeline._shared_table``) is cached
        once as usual.
        """
        if self.name == "spark":
            from worklife.metrics.spark import materialise

            return materialise(self.backend, expr)
        if self.recorder is not None and not run_wide:
            return self.recorder.cache(expr)
        return expr.cache()

    @contextmanager
    def compiling(self) -> Iterator[None]:
        """Compile (build, cache, turn into a relation) metric graphs inside this block.

        On DuckDB, Ibis does not fuse nested selects into one (``ibis.options.sql.fuse_selects``):
        DuckDB's optimiser merges them anyway, and the rewrite that fuses them was a third of
        Ibis's compile time. Same rows; per 2,000-person batch of a full run ~0.7 CPU s less,
        a one-week refresh ~0.3 s less (docs/performance.md, pass 8). Spark keeps the default.
        """
        if self.name != "duckdb":
            yield
            return
        before = ibis.options.sql.fuse_selects
        ibis.options.sql.fuse_selects = False
        try:
            yield
        finally:
            ibis.options.sql.fuse_selects = before

    def table(self, name: str) -> Any:
        return self.backend.table(name)

    def execute(self, expr: Any) -> pd.DataFrame:
        return self.backend.execute(expr)

    def arrow(self, sql: str) -> pa.Table:
        return self._store.arrow(sql)

    @property
    def _store(self) -> Store:
        return self.store if self.store is not None else Store(self.duck, "<connection>")

    def people(self) -> pd.DataFrame:
        """Measured people (raw rows) as pandas: ``is_measured`` where ingest decided it
        (docs/ingest.md, "Who is measured"), else internal people (stores loaded directly)."""
        df = self._store.frame("SELECT * FROM people ORDER BY person_id")
        keep = df["is_internal"].astype("boolean").fillna(True)
        if "is_measured" in df.columns:  # absent in a read-only store of schema version 1
            keep = df["is_measured"].astype("boolean").fillna(keep)
        return df[keep.to_numpy(dtype=bool)].reset_index(drop=True)

    def span_dates(self) -> tuple[date, date] | None:
        """UTC dates of the first and last activity instant in the store."""
        span = self._store.data_span_utc()
        if span is None:
            return None
        return span[0].date(), span[1].date()

    def tz_offsets(self) -> pa.Table | None:
        t = self.arrow("SELECT * FROM tz_offsets")
        return t if t.num_rows else None


def store_reader(con: duckdb.DuckDBPyConnection, label: str = "<connection>") -> Engine:
    """An ``Engine`` over the store open on ``con`` (``label``: its path, for messages) for
    its small reads only (``people``, ``span_dates``, ``tz_offsets``), without an Ibis
    backend: planning a refresh reads nothing else, and loading Ibis's DuckDB backend
    costs ~0.1 s of a fresh process (its SQL compilers)."""
    store = Store(con, label)
    try:
        store.run("SET enable_progress_bar = false")  # it would be drawn into stdout
        store.rows("SELECT count(*) FROM people")
    except duckdb.Error as exc:
        raise StoreError(f"{label}: not a worklife store: {exc}") from exc
    return Engine(backend=None, duck=con, store=store)


def open_backend(store_or_con: Store | duckdb.DuckDBPyConnection | str | Path,
                 engine: str = "duckdb", spark_master: str = "local[*]") -> Engine:
    """Wrap a Store, a store path or a directory of Parquet tables (``worklife.storage.open_store``).

    The store is opened (and its schema checked) by ``open_store``; ``engine="spark"``
    runs the expressions on PySpark over the tables it staged once (a store is staged to
    Parquet in a temporary folder; a directory is read as exported Parquet tables, and
    DuckDB reads only the small tables from it). A directory needs ``engine="spark"``.
    A bare DuckDB connection (internal callers of old) is wrapped as a Store as it is.
    """
    if isinstance(store_or_con, duckdb.DuckDBPyConnection):
        store_or_con = Store(store_or_con, "<connection>")
    store = open_store(store_or_con, engine=engine, spark_master=spark_master)
    con = store.con
    try:
        store.run("SET enable_progress_bar = false")  # it would be drawn into stdout
        store.rows("SELECT count(*) FROM people")
    except duckdb.Error as exc:
        raise StoreError(f"{store.path}: not a worklife store: {exc}") from exc
    if engine == "spark":
        from worklife.metrics.spark import spark_backend_for

        return Engine(backend=spark_backend_for(store, spark_master), duck=con, name="spark", store=store)
    return Engine(backend=ibis.duckdb.from_connection(con), duck=con, name="duckdb", store=store)
