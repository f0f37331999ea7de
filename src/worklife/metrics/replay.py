"""A batched run's graph built and compiled once, its SQL replayed for every batch (DuckDB).

A full run measures people in batches of ``metrics.batch_people``; batches differ only
by which people they take. Building the Ibis graph and compiling it cost about 0.5 CPU s
of single-threaded Python per batch at 10,000 × 52 (docs/performance.md, pass 8), so a
run whose batches are contiguous ranges of the int key ``pk`` builds the graph once,
with the batch's bounds read from DuckDB variables (``SET VARIABLE wl_pk_lo = …``,
``pipeline.PK_LO``/``PK_HI``) instead of literals, and replays its SQL:

- the first batch builds the graph (``pipeline.build`` with ``PK_VARIABLES``); each of
  its per-batch cached steps (``Engine.cache``) becomes a temporary table with a stable
  name, its statements recorded in order; the final query's SQL is recorded too;
- every next batch sets the variables, runs the recorded statements again and returns
  the final query as a DuckDB relation.

DuckDB folds ``getvariable`` to a constant when a query is bound, so a filter on it
prunes a scan like a literal (checked with EXPLAIN: ``Filters: (pk >= 1000) AND
(pk <= 2999)`` on the scan). Tables every batch shares (``pipeline._shared_table``) are
cached once, outside the record. The graph stays alive for the whole run; the
calendar's tables are registered under stable names while the recorder is open.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import sqlglot as sg
import sqlglot.expressions as sge
from ibis.util import gen_name

from worklife.metrics import MetricRun
from worklife.metrics.pipeline import (
    BOX_D0, BOX_D1, PK_HI, PK_LO, PK_VARIABLES, WIN_HI, WIN_HI_TS, WIN_LO, WIN_LO_TS, Parts,
)
from worklife.store import Store


def pk_ranges(people_frame: pd.DataFrame, groups: list[list[str]]) -> list[tuple[int, int]] | None:
    """Each group's (first, last) ``pk`` when every group is a contiguous run of the
    calendar's int keys (a batch of a full run, or of an everyone box); else None."""
    pk = people_frame.set_index("person_id")["pk"]
    out = []
    for group in groups:
        keys = pk.reindex(group)
        if not len(group) or keys.isna().any():
            return None
        lo, hi = int(keys.min()), int(keys.max())
        if hi - lo + 1 != len(set(keys.astype("int64"))) or len(set(group)) != len(group):
            return None
        out.append((lo, hi))
    return out


def _set_variables(store: Store, values: Mapping[str, int | None], as_timestamp: bool = False) -> None:
    """Set each DuckDB variable to its BIGINT value (``as_timestamp``: the epoch seconds as a
    UTC TIMESTAMP), or reset it for None, on the store's connection."""
    for name, value in values.items():
        if value is None:
            store.run(f"RESET VARIABLE {name}")
        elif as_timestamp:
            store.run(f"SET VARIABLE {name} = make_timestamp(CAST({int(value)} AS BIGINT) * 1000000)")
        else:
            store.run(f"SET VARIABLE {name} = CAST({int(value)} AS BIGINT)")


def set_bounds(store: Store, lo: int | None, hi: int | None) -> None:
    """Set (or with None, reset) the batch's bounds ``PK_LO``, ``PK_HI`` on the store's connection."""
    _set_variables(store, {PK_LO: lo, PK_HI: hi})


def set_box(store: Store, window: tuple[int, int] | None, days: tuple[int, int] | None) -> None:
    """Set (or with None, reset) a box's variables (``pipeline.WINDOW_VARIABLES``): its
    window [lo, hi) in epoch seconds, as BIGINT and as UTC TIMESTAMP, and its first and
    last local epoch day."""
    lo, hi = window if window is not None and days is not None else (None, None)
    d0, d1 = days if window is not None and days is not None else (None, None)
    _set_variables(store, {WIN_LO: lo, WIN_HI: hi, BOX_D0: d0, BOX_D1: d1})
    _set_variables(store, {WIN_LO_TS: lo, WIN_HI_TS: hi}, as_timestamp=True)


#: the name a calendar's in-memory table of this role has in recorded SQL
STABLE_PREFIX = "wl_mt_"


@dataclass(frozen=True)
class Recording:
    """A batch's recorded SQL: its steps (table name, the statement creating it), the final
    query and the calendar roles (``LocalCalendar.memtables``) they read by stable name."""

    steps: tuple[tuple[str, str], ...]
    final_sql: str
    roles: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps({"steps": [list(s) for s in self.steps], "final_sql": self.final_sql,
                           "roles": list(self.roles)})

    @classmethod
    def from_json(cls, text: str) -> Recording:
        doc = json.loads(text)
        return cls(tuple((str(n), str(q)) for n, q in doc["steps"]), str(doc["final_sql"]),
                   tuple(str(r) for r in doc["roles"]))


class StepRecorder:
    """A batch's cached steps as named temporary tables, recorded in order with the
    statement creating each, and its final query's SQL: run again for the next batch
    by ``replay``.

    A step's table is ``CREATE OR REPLACE TEMP TABLE … AS SELECT`` with each column
    cast to the expression's type, so the graph reading it sees the types of Ibis's
    ``cache()`` (which creates the table, then inserts: 0.4 CPU s more per batch of
    2,000 at 10,000 × 52, docs/performance.md pass 8); its columns are nullable.

    With the calendar's ``tables`` (``LocalCalendar.memtables``), the recorded SQL names
    them by role (``wl_mt_<role>``, registered on the connection while the recorder is
    open) instead of Ibis's random names, so a ``Recording`` of it runs again in another
    process over that process's calendar (``worklife.metrics.sqlcache``). A query that
    reads any other in-memory table leaves the recording not ``portable``.
    """

    def __init__(self, backend: Any, store: Store, tables: Mapping[str, ir.Table] | None = None) -> None:
        self.backend = backend  # Ibis's DuckDB backend over ``store``'s connection
        self.store = store
        self.prefix = gen_name("wl_batch")  # unique per run, stable over its batches
        self.steps: list[tuple[str, str]] = []  # (table name, the statement creating it)
        self.final_sql: str | None = None
        self.tables = {role: t.op() for role, t in (tables or {}).items()}
        self._roles = {op.name: role for role, op in self.tables.items()}
        self.registered: list[str] = []  # roles registered under their stable names
        self._views = ExitStack()  # unregisters them (``close``)
        self.portable = True

    def _stable(self, expr: ir.Table, sql: str) -> str:
        """``sql`` of ``expr`` with the calendar's tables under their stable names (registered)."""
        for op in expr.op().find(ops.InMemoryTable):
            role = self._roles.get(op.name)
            if role is None:
                self.portable = False
                continue
            self.register(role)
            sql = sql.replace(op.name, STABLE_PREFIX + role)
        return sql

    def register(self, role: str) -> None:
        """Make the calendar's table of ``role`` readable by its stable name."""
        if role in self.registered:
            return
        op = self.tables[role]
        self._views.enter_context(self.store.registered(STABLE_PREFIX + role, op.data.to_pyarrow(op.schema)))
        self.registered.append(role)

    def cache(self, expr: ir.Table) -> ir.Table:
        """Materialise ``expr`` into the next step's table; record how (``Engine.cache``)."""
        be = self.backend
        name = f"{self.prefix}_{len(self.steps)}"
        be._run_pre_execute_hooks(expr)  # registers the memtables and UDFs it reads
        typed = [sge.Cast(this=sg.column(c, quoted=True), to=be.compiler.type_mapper.from_ibis(t)).as_(c, quoted=True)
                 for c, t in expr.schema().items()]
        select = sg.select(*typed).from_(be.compiler.to_sqlglot(expr).subquery("step"))
        create = sge.Create(kind="TABLE", replace=True, expression=select,
                            this=sg.table(name, catalog="temp", db="main", quoted=True),
                            properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
        self.steps.append((name, self._stable(expr, create.sql(be.dialect))))
        self.store.run(self.steps[-1][1])
        return be.table(name, database=("temp", "main"))

    def finish(self, expr: ir.Table) -> duckdb.DuckDBPyRelation:
        """Record the final query (``expr``) and return it as a DuckDB relation."""
        self.backend._run_pre_execute_hooks(expr)
        self.final_sql = self._stable(expr, self.backend.compile(expr))
        return self.store.relation(self.final_sql)

    def replay(self) -> duckdb.DuckDBPyRelation:
        """Run every recorded step again (for the bounds now set); the final query's relation."""
        if self.final_sql is None:
            raise RuntimeError("replay before a batch was recorded")
        for _, sql in self.steps:
            self.store.run(sql)
        return self.store.relation(self.final_sql)

    def recording(self) -> Recording | None:
        """What was recorded, to run again elsewhere; None when it is not ``portable``."""
        if self.final_sql is None or not self.portable:
            return None
        return Recording(tuple(self.steps), self.final_sql, tuple(self.registered))

    def play(self, recording: Recording) -> duckdb.DuckDBPyRelation:
        """Run a ``Recording`` (made over another calendar of the same shape) over this
        recorder's calendar: its tables registered, its steps run; the final relation."""
        missing = [r for r in recording.roles if r not in self.tables]
        if missing:
            raise KeyError(f"the calendar has no table for {missing}")
        for role in recording.roles:
            self.register(role)
        self.steps, self.final_sql = list(recording.steps), recording.final_sql
        return self.replay()

    def free(self) -> None:
        """Drop the steps' tables (a batch's memory; DuckDB frees it when the statement commits)."""
        for name, _ in self.steps:
            self.store.run(f'DROP TABLE IF EXISTS "temp"."main"."{name}"')

    def close(self) -> None:
        """Drop the steps' tables and unregister the calendar's tables."""
        self.free()
        self._views.close()
        self.registered = []


class BatchReplay:
    """A run's batches from one build of its graph: ``batch(i)`` for the i-th of ``ranges``
    (first and last ``pk`` of each batch, ``pk_ranges``), ``free()`` when its rows are
    consumed, ``close()`` at the end (DuckDB engine with its ``store``, as ``open_backend``
    makes it).

    ``select(parts)`` picks the final query from the graph (e.g. the box's days of
    ``Parts.rows``). The first batch builds the graph through ``run.parts`` with
    ``PK_VARIABLES`` as its people and an engine recording its cached steps.
    """

    def __init__(self, run: MetricRun, select: Callable[[Parts], ir.Table],
                 ranges: list[tuple[int, int]]) -> None:
        if run.engine.store is None:
            raise ValueError("a replayed run needs its engine's store (open_backend makes one)")
        self.store = run.engine.store
        self.recorder = StepRecorder(run.engine.backend, self.store, run.cal.memtables())
        engine = replace(run.engine, recorder=self.recorder)
        self.run = replace(run, engine=engine, person_ids=PK_VARIABLES, _parts=None, batches=len(ranges))
        self.select = select
        self.ranges = ranges
        self.graph: ir.Table | None = None  # kept alive: the recorded SQL names its memtables

    def batch(self, i: int) -> duckdb.DuckDBPyRelation:
        """The final query's relation for the i-th batch (``pk`` in ``ranges[i]``)."""
        set_bounds(self.store, *self.ranges[i])
        if self.graph is None:
            self.graph = self.select(self.run.parts)
            return self.recorder.finish(self.graph)
        return self.recorder.replay()

    def free(self) -> None:
        """Drop the batch's step tables (call once its relation has been read)."""
        self.recorder.free()

    def close(self) -> None:
        """Drop the step tables, unregister the calendar's and reset the variables."""
        self.recorder.close()
        set_bounds(self.store, None, None)
