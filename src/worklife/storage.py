"""The store seam: ``open_store`` opens a store once for any engine; Parquet/Spark staging.

    store = open_store("worklife.duckdb")                     # read-only, schema checked
    store = open_store("worklife.duckdb", write=True)         # migrated to SCHEMA_VERSION
    store = open_store(path_or_store, engine="spark")         # + tables staged on Spark, once
    store.spark_stage.session                                 # the Spark session over them

Every stage opens its input through ``open_store`` (metrics' ``open_backend``, policy's
``open_db``): the schema check always runs, a file that is no store gives one clear
``StoreError``, and with ``engine="spark"`` the canonical tables are staged as Parquet and
registered on Spark once per store, however many stages read them. A folder of exported
Parquet tables (``worklife export TABLE --format parquet``) opens as a read-only store
whose tables are DuckDB views over the Parquet (small reads) and needs ``engine="spark"``.

Parquet is the exchange format: a Parquet folder holds one entry per canonical table,
``<table>.parquet`` or ``<table>/`` (Hive folders such as ``week=2025-W13/`` whose ``week``
column is dropped). Timestamps are UTC instants: the Spark session time zone is pinned to
``UTC`` and naive (NTZ) columns are read as UTC; the time-zone rules travel as ``tz_offsets``.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from worklife.errors import ConfigError, StoreError
from worklife.store import TABLES, Store, connect

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")

#: The tables the metric expressions and the policy queries read.
CANONICAL = ("people", "meetings", "meeting_attendees", "messages", "message_recipients", "outcomes",
             "tz_offsets")


@dataclass(frozen=True)
class SparkStage:
    """A store's canonical tables as Spark temp views over ``parquet_dir``."""

    session: Any
    parquet_dir: Path


def open_store(source: Store | str | Path, *, engine: str = "duckdb", spark_master: str = "local[*]",
               write: bool = False, create: bool = False) -> Store:
    """The one way a stage opens its input: a Store, a store file or a Parquet folder.

    A Store comes back as a borrowed handle (closing it leaves the caller's store open);
    a path is opened here (close the result). ``write=True`` opens the file for writing
    (older schema versions are migrated), else read-only (a newer version is refused).
    ``engine="spark"`` stages the tables on Spark once (``store.spark_stage``).
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if isinstance(source, Store):
        store = source.borrow()
    else:
        store = _open_path(Path(source), engine, write, create)
    if engine == "spark":
        try:
            stage_spark(store, spark_master)
        except Exception:
            store.close()
            raise
    return store


def _open_path(p: Path, engine: str, write: bool, create: bool) -> Store:
    if not p.exists() and not create:
        raise StoreError(f"{p}: no such store; run `worklife ingest ... --db {p}` first")
    if p.is_dir():
        if engine != "spark":
            raise ConfigError(f"{p} is a directory of Parquet tables: use --engine spark")
        if write:
            raise StoreError(f"{p}: a folder of Parquet tables is read-only")
        return Store(duck_over_parquet(p), str(p), parquet_dir=p)
    store = connect(p, read_only=not write, create=create)
    store.run("SET enable_progress_bar = false")  # a library never draws on the terminal
    return store


def stage_spark(store: Store, master: str = "local[*]") -> SparkStage:
    """Stage ``store``'s canonical tables on Spark once; later calls reuse the staging.

    A DuckDB store is written to Parquet in a temporary folder (removed at exit); a
    Parquet-folder store is read where it is. The temp views are registered again when
    another store was staged on the same session since.
    """
    stage: SparkStage | None = store._shared.get("spark")
    if stage is None:
        if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
            raise ConfigError("--engine spark needs Java 17: no `java` on PATH and no JAVA_HOME")
        session = spark_session(master, "worklife")
        parquet_dir = store.parquet_dir
        if parquet_dir is None:
            if not session.sparkContext.master.startswith("local"):
                log.warning("staging the store as Parquet in a local temp folder: cluster executors "
                            "cannot read it; export Parquet to shared storage and pass that folder")
            parquet_dir = write_parquet(store, staging_dir())
        stage = SparkStage(session, Path(parquet_dir))
        store._shared["spark"] = stage
    if _LOADED.get(id(stage.session)) != stage.parquet_dir:
        load_parquet(stage.session, stage.parquet_dir)
        _LOADED[id(stage.session)] = stage.parquet_dir
    if stage.session.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ConfigError("the Spark session time zone is not UTC; worklife needs UTC")
    return stage


_LOADED: dict[int, Path] = {}  # Spark session -> the Parquet folder its canonical views read


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


def write_parquet(store: Store | duckdb.DuckDBPyConnection, out_dir: str | Path,
                  tables: tuple[str, ...] = CANONICAL) -> Path:
    """Write each table of a store to ``out_dir/<table>.parquet`` (zstd); return out_dir."""
    if isinstance(store, duckdb.DuckDBPyConnection):
        store = Store(store, "<connection>")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in tables:
        cols = ", ".join(f'"{c}"' for c in columns(name))
        path = str(out / f"{name}.parquet").replace("'", "''")
        store.run(f"COPY (SELECT {cols} FROM {name}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
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

    Stages read small tables (people, tz_offsets, the activity span) from it; the heavy
    queries run on Spark.
    """
    con = duckdb.connect(":memory:")
    for name, path in table_paths(parquet_dir).items():
        cols = ", ".join(f'"{c}"' for c in columns(name))
        src = _glob(path).replace("'", "''")
        con.execute(f"CREATE VIEW {name} AS SELECT {cols} FROM read_parquet('{src}', hive_partitioning = false)")
    con.execute("SET enable_progress_bar = false")
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
    _LOADED[id(session)] = Path(parquet_dir)
    return names


def staging_dir() -> Path:
    """A temporary folder for a store's Parquet, removed at interpreter exit."""
    path = Path(tempfile.mkdtemp(prefix="worklife-parquet-"))
    atexit.register(shutil.rmtree, path, True)
    return path
