"""Backend connection: the store's DuckDB through Ibis (default), or PySpark (optional).

``open_backend(store_or_con, engine)`` returns an ``Engine`` holding the Ibis backend,
the canonical tables as Ibis tables and a way to read small tables into Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from worklife.errors import ConfigError, StoreError
from worklife.store import Store

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")


@dataclass
class Engine:
    """An Ibis backend over the canonical tables."""

    backend: Any
    duck: duckdb.DuckDBPyConnection
    name: str = "duckdb"

    def cache(self, expr: Any) -> Any:
        """Materialise an intermediate table (DuckDB temp table, Spark local checkpoint)."""
        if self.name == "spark":
            from worklife.metrics.spark import materialise

            return materialise(self.backend, expr)
        return expr.cache()

    def table(self, name: str) -> Any:
        return self.backend.table(name)

    def execute(self, expr: Any) -> pd.DataFrame:
        return self.backend.execute(expr)

    def arrow(self, sql: str) -> pa.Table:
        return self.duck.sql(sql).to_arrow_table()

    def people(self) -> pd.DataFrame:
        """Measured people (raw rows) as pandas: ``is_measured`` where ingest decided it
        (docs/ingest.md, "Who is measured"), else internal people (stores loaded directly)."""
        df = self.duck.execute("SELECT * FROM people ORDER BY person_id").df()
        keep = df["is_internal"].astype("boolean").fillna(True)
        if "is_measured" in df.columns:  # absent in a read-only store of schema version 1
            keep = df["is_measured"].astype("boolean").fillna(keep)
        return df[keep.to_numpy(dtype=bool)].reset_index(drop=True)

    def span_dates(self) -> tuple[date, date] | None:
        """UTC dates of the first and last activity instant in the store."""
        row = self.duck.execute(
            """SELECT min(t0), max(t1) FROM (
                 SELECT min(start_utc) t0, max(end_utc) t1 FROM meetings
                 UNION ALL SELECT min(sent_utc), max(sent_utc) FROM messages
                 UNION ALL SELECT min(at_utc), max(at_utc) FROM outcomes)""").fetchall()[0]
        if row[0] is None:
            return None
        return row[0].date(), row[1].date()

    def tz_offsets(self) -> pa.Table | None:
        t = self.arrow("SELECT * FROM tz_offsets")
        return t if t.num_rows else None


def open_backend(store_or_con: Store | duckdb.DuckDBPyConnection | str | Path,
                 engine: str = "duckdb", spark_master: str = "local[*]") -> Engine:
    """Wrap a Store, a DuckDB connection, a store path or a directory of Parquet tables.

    ``engine="spark"`` runs the expressions on PySpark (``worklife.metrics.spark``): a
    store is staged to Parquet in a temporary folder; a directory is read as exported
    Parquet tables (DuckDB reads only the small tables from it). A directory needs
    ``engine="spark"``.
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    parquet_dir = None
    if isinstance(store_or_con, Store):
        con = store_or_con.con
    elif isinstance(store_or_con, duckdb.DuckDBPyConnection):
        con = store_or_con
    else:
        p = Path(store_or_con)
        if not p.exists():
            raise StoreError(f"{p}: no such store; run `worklife ingest ... --db {p}` first")
        if p.is_dir():
            if engine != "spark":
                raise ConfigError(f"{p} is a directory of Parquet tables: use --engine spark")
            from worklife.metrics import spark

            parquet_dir, con = p, spark.duck_over_parquet(p)
        else:
            con = duckdb.connect(str(p), read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")  # it would be drawn into stdout
        con.execute("SELECT count(*) FROM people").fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"not a worklife store: {exc}") from exc
    if engine == "spark":
        from worklife.metrics import spark

        session = spark.spark_session(spark_master, "worklife-metrics")
        if parquet_dir is None:
            if not session.sparkContext.master.startswith("local"):
                log.warning("staging the store as Parquet in a local temp folder: cluster executors "
                            "cannot read it; export Parquet to shared storage and pass that folder")
            parquet_dir = spark.write_parquet(con, spark.staging_dir())
        return Engine(backend=spark.spark_backend(session, parquet_dir), duck=con, name="spark")
    return Engine(backend=ibis.duckdb.from_connection(con), duck=con, name="duckdb")
