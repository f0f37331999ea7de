"""PySpark backend for the metric expressions: a UTC Spark session and Parquet tables.

    session = spark_session("local[*]")                  # or "spark://host:7077", "yarn"
    backend = spark_backend(session, parquet_dir)        # canonical tables as temp views
    write_parquet(store.con, out_dir)                    # a store's tables as Parquet

Parquet is the exchange format. ``parquet_dir`` holds one entry per canonical table,
either ``<table>.parquet`` (a file) or ``<table>/`` (a folder of Parquet files, such as
``worklife export TABLE --format parquet --partition-by-week``: Hive folders
``week=2025-W13/`` whose ``week`` column is dropped). Timestamps are UTC instants: the
session time zone is pinned to ``UTC`` and naive (NTZ) columns are read as UTC.
The time-zone rules travel as the ``tz_offsets`` table, so executors need no zoneinfo.
"""

from __future__ import annotations

import atexit
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from worklife.errors import ConfigError, StoreError
from worklife.store import TABLES

log = logging.getLogger(__name__)

#: The tables the metric expressions read.
CANONICAL = ("people", "meetings", "meeting_attendees", "messages", "message_recipients", "outcomes",
             "tz_offsets")


def columns(table: str) -> list[str]:
    """Column names of a canonical table, in store order (from ``worklife.store.TABLES``)."""
    ddl = re.sub(r"\([^)]*\)", "", TABLES[table][0])  # drop DECIMAL(p, s)-style arguments
    return [part.split()[0] for part in ddl.split(",") if part.strip()]


def spark_session(master: str = "local[*]", app_name: str = "worklife",
                  shuffle_partitions: int | None = None, warehouse: str | Path | None = None) -> Any:
    """Get or create a Spark session with session time zone UTC and a temporary warehouse.

    An already-running session (spark-submit, pyspark shell, a test fixture) is reused:
    its master wins over ``master``. ``shuffle_partitions`` defaults to 4 on ``local``
    masters (small data, 2 cores) and to Spark's own default on a cluster.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("--engine spark needs pyspark: pip install 'worklife[spark]'") from exc
    if warehouse is None:
        warehouse = tempfile.mkdtemp(prefix="worklife-spark-")
        atexit.register(shutil.rmtree, warehouse, True)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.warehouse.dir", str(warehouse))
               .config("spark.ui.showConsoleProgress", "false"))
    if master.startswith("local"):
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.sql.shuffle.partitions", str(shuffle_partitions or 4))
    elif shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, bad master URL: one clear line
        raise ConfigError(f"cannot start Spark (master {master!r}): {str(exc).splitlines()[0]}") from exc
    session.conf.set("spark.sql.session.timeZone", "UTC")
    running = session.sparkContext.master
    if running != master:
        log.info("reusing the running Spark session on %s (asked for %s)", running, master)
    return session


def write_parquet(con: duckdb.DuckDBPyConnection, out_dir: str | Path,
                  tables: tuple[str, ...] = CANONICAL) -> Path:
    """Write each table of a DuckDB store to ``out_dir/<table>.parquet`` (zstd); return out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in tables:
        cols = ", ".join(f'"{c}"' for c in columns(name))
        path = str(out / f"{name}.parquet").replace("'", "''")
        con.execute(f"COPY (SELECT {cols} FROM {name}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return out


def table_paths(parquet_dir: str | Path) -> dict[str, Path]:
    """The Parquet file or folder of each canonical table in ``parquet_dir``.

    Raises StoreError naming the missing tables.
    """
    root = Path(parquet_dir)
    if not root.is_dir():
        raise StoreError(f"{root}: not a directory of Parquet tables")
    found: dict[str, Path] = {}
    for name in CANONICAL:
        for cand in (root / f"{name}.parquet", root / name):
            if cand.exists():
                found[name] = cand
                break
    missing = [n for n in CANONICAL if n not in found]
    if missing:
        raise StoreError(f"{root}: no Parquet for {', '.join(missing)} (expected <table>.parquet or "
                         f"<table>/; `worklife export TABLE --format parquet` writes them)")
    return found


def _glob(path: Path) -> str:
    return str(path / "**" / "*.parquet") if path.is_dir() else str(path)


def duck_over_parquet(parquet_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per canonical table over its Parquet.

    The metric code reads small tables (people, tz_offsets, the activity span) from it;
    the heavy expressions run on Spark.
    """
    con = duckdb.connect(":memory:")
    for name, path in table_paths(parquet_dir).items():
        cols = ", ".join(f'"{c}"' for c in columns(name))
        src = _glob(path).replace("'", "''")
        con.execute(f"CREATE VIEW {name} AS SELECT {cols} FROM read_parquet('{src}', hive_partitioning = false)")
    return con


def load_parquet(session: Any, parquet_dir: str | Path) -> list[str]:
    """Register each canonical table of ``parquet_dir`` as a Spark temp view; return the names.

    Keeps the store's columns only (drops Hive partition columns such as ``week``) and
    casts naive timestamps (TIMESTAMP_NTZ) to Spark TIMESTAMP, read as UTC.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType

    names = []
    for name, path in table_paths(parquet_dir).items():
        reader = session.read
        if path.is_dir():
            reader = reader.option("recursiveFileLookup", "true")
        sdf = reader.parquet(str(path))
        types = {f.name: f.dataType for f in sdf.schema.fields}
        cols = columns(name)
        absent = [c for c in cols if c not in types]
        if absent:
            raise StoreError(f"{path}: Parquet lacks column(s) {', '.join(absent)} of table {name}")
        sdf = sdf.select(*[F.col(c).cast("timestamp").alias(c) if isinstance(types[c], TimestampNTZType)
                           else F.col(c) for c in cols])
        sdf.createOrReplaceTempView(name)
        names.append(name)
    return names


def spark_backend(session: Any, parquet_dir: str | Path) -> Any:
    """``ibis.pyspark`` over ``session`` with the canonical tables of ``parquet_dir`` loaded."""
    import ibis

    load_parquet(session, parquet_dir)
    backend = ibis.pyspark.connect(session)
    tz = session.conf.get("spark.sql.session.timeZone")
    if tz != "UTC":  # ibis.pyspark.connect sets UTC; anything else shifts epochs across DST
        raise ConfigError(f"Spark session time zone is {tz!r}; worklife needs UTC")
    return backend


def staging_dir() -> Path:
    """A temporary folder for a store's Parquet, removed at interpreter exit."""
    path = Path(tempfile.mkdtemp(prefix="worklife-parquet-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def materialise(backend: Any, expr: Any) -> Any:
    """Compute ``expr`` once on Spark and return it as a table over the result.

    A local checkpoint (executor memory/disk, eager) cuts the lineage: later queries see
    a scan instead of re-analysing the whole upstream plan, which is what makes Ibis's
    ``cache()`` (a lazily cached view) slow on a deep metric graph.
    """
    import ibis.util

    backend._run_pre_execute_hooks(expr)  # register the calendar memtables first
    name = ibis.util.gen_name("worklife_step")
    sdf = backend._session.sql(backend.compile(expr)).localCheckpoint(eager=True)
    sdf.createOrReplaceTempView(name)
    return backend.table(name)
