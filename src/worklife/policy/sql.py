"""Where the policy SQL runs: the store's DuckDB (default) or Spark, from one query text.

Every policy query is written once, in DuckDB SQL. ``PolicyDb`` runs it on the store's
connection; ``SparkPolicyDb`` transpiles it with sqlglot (``to_spark``) and runs it on a
Spark session whose canonical tables are temp views over Parquet
(``worklife.metrics.spark``). Both give Python rows (naive UTC datetimes, dates, ints,
floats) or pandas frames, so the code around the queries is the same for both engines.

Temp tables (``pol_sched``, ``pol_contact`` …) are DuckDB temp tables, or on Spark eager
local checkpoints registered as temp views. Small inputs built in Python (schedules,
holidays, limits, on-call windows) are Arrow tables loaded with ``load``.

Rewrites on top of sqlglot's DuckDB -> Spark transpiler (docs/scale-out.md):
``ASOF JOIN … AND t >= o.valid_from_utc`` -> a range join adding ``t < o.valid_to_utc``
(only for ``tz_offsets``-like tables, whose periods are contiguous);
``isodow(t)`` -> ``weekday(t) + 1``; ``to_seconds(x)`` -> ``make_dt_interval(0, 0, 0, x)``;
``epoch(t)`` -> ``unix_micros(t) / 1e6`` as DOUBLE (fractional seconds kept);
``strftime(d, '%G-W%V')`` -> the ISO year of the week's Thursday and ``weekofyear``;
naive ``TIMESTAMP`` (TIMESTAMP_NTZ) -> Spark ``TIMESTAMP`` in the UTC session.
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from worklife.errors import ConfigError, StoreError
from worklife.storage import ENGINES, open_store, stage_spark
from worklife.store import Store

log = logging.getLogger(__name__)


class PolicyDb:
    """The policy queries on the store's DuckDB: queries, temp tables and small reads."""

    engine = "duckdb"

    def __init__(self, store: Store, owned: bool = False):
        self.store = store  # small reads (people, tz_offsets, data span) always go here
        self._owned = owned
        # Inputs of the temp tables built last (shared with borrowed copies): a PolicyDb is a
        # snapshot of the data for its lifetime, so equal inputs need not be rebuilt.
        self.built: dict[str, Any] = {}
        store.run("SET enable_progress_bar = false")  # a library never draws on the terminal

    def __enter__(self) -> PolicyDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store if this object opened it."""
        if self._owned:
            self.store.close()

    def rows(self, sql: str) -> list[tuple]:
        return self.store.rows(sql)

    def df(self, sql: str) -> pd.DataFrame:
        return self.store.frame(sql)

    def temp(self, name: str, sql: str, reuse: bool = True) -> None:
        """(Re)create temp table ``name`` as the result of ``sql``.

        ``reuse=False`` hints that the table is small or read once or twice: Spark then keeps
        it as a plain view (recomputed when read) instead of computing it in a job of its own.
        """
        self.store.run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def load(self, name: str, table: pa.Table, select: str = "*") -> None:
        """Create temp table ``name`` as ``SELECT {select}`` from an Arrow table."""
        # Explicit registration (another stage's Ibis backend may switch off replacement scans).
        with self.store.registered("_pol_arrow", table):
            self.store.run(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} FROM _pol_arrow")


class SparkPolicyDb(PolicyDb):
    """The same queries on Spark; the store (or a DuckDB over the Parquet) serves small reads."""

    engine = "spark"

    def __init__(self, store: Store, session: Any, owned: bool = False):
        super().__init__(store, owned)
        self.session = session

    def _sdf(self, sql: str) -> Any:
        return self.session.sql(to_spark(sql))

    def rows(self, sql: str) -> list[tuple]:
        t = _naive(self._sdf(sql).toArrow())
        return list(zip(*(c.to_pylist() for c in t.columns))) if t.num_columns else []

    def df(self, sql: str) -> pd.DataFrame:
        return _naive(self._sdf(sql).toArrow()).to_pandas()

    def temp(self, name: str, sql: str, reuse: bool = True) -> None:
        sdf = self._sdf(sql)
        if reuse:  # an eager local checkpoint: computed once, later queries scan it (no lineage replay)
            sdf = sdf.localCheckpoint(eager=True)
        sdf.createOrReplaceTempView(name)

    def load(self, name: str, table: pa.Table, select: str = "*") -> None:
        # Small driver-side tables stay in the plan as local relations: no job, no checkpoint.
        self.session.createDataFrame(_naive(table)).createOrReplaceTempView(f"{name}__arrow")
        self._sdf(f"SELECT {select} FROM {name}__arrow").createOrReplaceTempView(name)


def _naive(t: pa.Table) -> pa.Table:
    """Timestamps as naive UTC (Spark returns them tz-aware in UTC; the store has them naive)."""
    cols = []
    for f, col in zip(t.schema, t.columns):
        if pa.types.is_timestamp(f.type) and f.type.tz is not None:
            col = col.cast(pa.timestamp(f.type.unit, "UTC")).cast(pa.timestamp(f.type.unit))
        cols.append(col)
    return pa.table(cols, names=t.column_names)


def as_db(store: Store | PolicyDb) -> PolicyDb:
    """A PolicyDb over ``store`` (DuckDB), or ``store`` itself if it already is one."""
    return store if isinstance(store, PolicyDb) else PolicyDb(store)


def open_db(store: Store | PolicyDb | str | Path, engine: str = "duckdb",
            spark_master: str = "local[*]") -> PolicyDb:
    """Where to run the policy queries: ``engine`` over a Store, a store file or a Parquet folder.

    The store is opened (schema checked) and, for Spark, staged once by
    ``worklife.storage.open_store``, the same seam metrics uses: a folder
    (``worklife export … --format parquet`` tables) needs ``engine="spark"``; a store is
    staged as Parquet in a temporary folder (removed at exit). Close the result when done
    (it closes only what it opened).
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if isinstance(store, PolicyDb):  # already open: use it as it is, and leave it open
        borrowed = copy.copy(store)
        borrowed._owned = False
        return borrowed
    opened = open_store(store, engine=engine, spark_master=spark_master)  # a Store comes back borrowed
    if engine == "duckdb":
        return PolicyDb(opened, owned=True)
    return SparkPolicyDb(opened, stage_spark(opened, spark_master).session, owned=True)


# -- DuckDB SQL -> Spark SQL ----------------------------------------------------------------

def _spark(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="spark")


def _iso_week(node: exp.Expression) -> exp.Expression:
    d = f"CAST({node.sql('spark')} AS DATE)"
    return _spark(f"CONCAT(CAST(YEAR(DATE_ADD({d}, 3 - WEEKDAY({d}))) AS STRING), '-W', "
                  f"LPAD(CAST(WEEKOFYEAR({d}) AS STRING), 2, '0'))")


def _asof_to_range(join: exp.Join) -> exp.Join:
    """``ASOF JOIN o ON … AND t >= o.valid_from_utc`` -> ``JOIN o ON … AND t < o.valid_to_utc``."""
    on = join.args.get("on")
    for cmp in on.find_all(exp.GTE, exp.LTE) if on is not None else ():
        left, right = cmp.this, cmp.expression
        if isinstance(cmp, exp.LTE):
            left, right = right, left
        if isinstance(right, exp.Column) and right.name == "valid_from_utc":
            upper = exp.column("valid_to_utc", table=right.table)
            join = join.copy()
            join.set("method", None)
            join.set("on", exp.and_(on.copy(), exp.LT(this=left.copy(), expression=upper)))
            return join
    raise StoreError("policy SQL: an ASOF JOIN on Spark needs a `t >= x.valid_from_utc` condition")


def _rewrite(node: exp.Expression) -> exp.Expression:
    # A replaced node's children are not visited by ``transform``: rewrite them first (``_sub``).
    if isinstance(node, exp.Join) and (node.args.get("method") or "").upper() == "ASOF":
        return _asof_to_range(node.transform(_rewrite_below))
    if isinstance(node, exp.DayOfWeekIso):
        return exp.Paren(this=exp.Add(this=exp.Anonymous(this="WEEKDAY", expressions=[_sub(node.this)]),
                                      expression=exp.Literal.number(1)))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "to_seconds":
        return exp.Anonymous(this="MAKE_DT_INTERVAL", expressions=[
            exp.Literal.number(0), exp.Literal.number(0), exp.Literal.number(0), _sub(node.expressions[0])])
    if isinstance(node, exp.TimeToUnix):
        return _spark(f"(CAST(UNIX_MICROS({_sub(node.this).sql('spark')}) AS DOUBLE) / 1000000)")
    if isinstance(node, exp.TimeToStr) and node.args.get("format") is not None \
            and node.args["format"].name == "%G-W%V":
        return _iso_week(_sub(node.this))
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPNTZ:
        return exp.DataType.build("TIMESTAMP_LTZ")
    return node


def _sub(node: exp.Expression) -> exp.Expression:
    return node.transform(_rewrite)


def _rewrite_below(node: exp.Expression) -> exp.Expression:
    """``_rewrite`` for everything under an ASOF join but the join itself."""
    if isinstance(node, exp.Join) and (node.args.get("method") or "").upper() == "ASOF":
        return node
    return _rewrite(node)


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """Spark SQL for one DuckDB query of the policy code (sqlglot plus the rewrites above)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(_rewrite).sql(dialect="spark")
