"""Backend connection: the store's DuckDB through Ibis (default), or PySpark (optional).

``open_backend(store_or_con, engine)`` returns an ``Engine`` holding the Ibis backend,
the canonical tables as Ibis tables and a way to read small tables into Python.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
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
        """Materialise an intermediate table (DuckDB temp table); Spark keeps the plan.

        On PySpark, Ibis does not register in-memory tables used inside a cached
        expression, so intermediate results are recomputed instead of cached.
        """
        return expr if self.name == "spark" else expr.cache()

    def table(self, name: str) -> Any:
        return self.backend.table(name)

    def execute(self, expr: Any) -> pd.DataFrame:
        return self.backend.execute(expr)

    def arrow(self, sql: str) -> pa.Table:
        return self.duck.sql(sql).to_arrow_table()

    def people(self) -> pd.DataFrame:
        """Internal people (raw rows) as pandas."""
        return self.duck.execute(
            "SELECT * FROM people WHERE coalesce(is_internal, TRUE) ORDER BY person_id").df()

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
                 engine: str = "duckdb") -> Engine:
    """Wrap a Store, a DuckDB connection or a store path for Ibis.

    ``engine="spark"`` starts a local PySpark session and copies the canonical tables
    into it (a correctness check of the same expressions, not a scale-out path yet).
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if isinstance(store_or_con, Store):
        con = store_or_con.con
    elif isinstance(store_or_con, duckdb.DuckDBPyConnection):
        con = store_or_con
    else:
        p = Path(store_or_con)
        if not p.exists():
            raise StoreError(f"{p}: no such store; run `worklife ingest ... --db {p}` first")
        con = duckdb.connect(str(p), read_only=True)
    try:
        con.execute("SELECT count(*) FROM people").fetchall()
    except duckdb.Error as exc:
        raise StoreError(f"not a worklife store: {exc}") from exc
    if engine == "spark":
        return Engine(backend=_spark_backend(con), duck=con, name="spark")
    return Engine(backend=ibis.duckdb.from_connection(con), duck=con, name="duckdb")


CANONICAL = ("people", "meetings", "meeting_attendees", "messages", "message_recipients", "outcomes",
             "tz_offsets")


def _spark_backend(con: duckdb.DuckDBPyConnection) -> Any:
    """A local PySpark session (UTC) with the store's canonical tables as temp views.

    Copies the tables through Arrow: meant for checking that the same expressions give
    the same results on Spark, not for data that does not fit this machine.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("--engine spark needs pyspark: pip install 'worklife[spark]'") from exc
    import tempfile

    warehouse = tempfile.mkdtemp(prefix="worklife-spark-")
    session = (SparkSession.builder.master("local[2]").appName("worklife-metrics")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", warehouse)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    backend = ibis.pyspark.connect(session)
    for name in CANONICAL:
        rows = [tuple(v.replace(tzinfo=timezone.utc) if isinstance(v, datetime) else v for v in r)
                for r in con.execute(f"SELECT * FROM {name}").fetchall()]
        sdf = session.createDataFrame(rows, _spark_schema(con, name))
        sdf.createOrReplaceTempView(name)
    return backend


def _spark_schema(con: duckdb.DuckDBPyConnection, table: str) -> str:
    types = {"VARCHAR": "string", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean", "INTEGER": "int",
             "BIGINT": "bigint", "DOUBLE": "double"}
    cols = con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                       f"WHERE table_name = '{table}' ORDER BY ordinal_position").fetchall()
    return ", ".join(f"{c} {types.get(t, 'string')}" for c, t in cols)
