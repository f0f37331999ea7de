"""PySpark backend for the metric expressions: Ibis over a staged store, and checkpoints.

    store = open_store(path_or_store, engine="spark")    # worklife.storage: staged once
    backend = spark_backend_for(store)                    # ibis.pyspark over its temp views

The staging itself (UTC session, Parquet of a store, Parquet folders, temp views) lives in
``worklife.storage``, shared with policy; its helpers are re-exported here for callers of
old (``spark_session``, ``write_parquet``, ``load_parquet`` …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from worklife.errors import ConfigError
from worklife.storage import (  # noqa: F401 (re-exported: the staging moved to worklife.storage)
    CANONICAL,
    columns,
    duck_over_parquet,
    load_parquet,
    spark_session,
    stage_spark,
    staging_dir,
    table_paths,
    write_parquet,
)
from worklife.store import Store


def spark_backend_for(store: Store, master: str = "local[*]") -> Any:
    """``ibis.pyspark`` over ``store``'s canonical tables, staged once (``stage_spark``)."""
    import ibis

    session = stage_spark(store, master).session
    backend = ibis.pyspark.connect(session)
    _check_utc(session)
    return backend


def _check_utc(session: Any) -> None:
    tz = session.conf.get("spark.sql.session.timeZone")
    if tz != "UTC":  # ibis.pyspark.connect sets UTC; anything else shifts epochs across DST
        raise ConfigError(f"Spark session time zone is {tz!r}; worklife needs UTC")


def spark_backend(session: Any, parquet_dir: str | Path) -> Any:
    """``ibis.pyspark`` over ``session`` with the canonical tables of ``parquet_dir`` loaded."""
    import ibis

    load_parquet(session, parquet_dir)
    backend = ibis.pyspark.connect(session)
    _check_utc(session)
    return backend


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
