"""Interval algebra as window functions (gaps and islands), portable to DuckDB and Spark.

Intervals are half-open ``[start_s, end_s)`` in int64 epoch seconds UTC.

- ``sweep`` / ``union_parts`` / ``disjoint_parts``: the union of intervals per key as
  disjoint (not necessarily maximal) parts, in **one** window pass: each interval keeps
  only its part after the running maximum of the ends before it, in start order. Sums,
  splits at local midnights, touched blocks and free gaps only need disjointness, so
  the metric pipeline uses these (explain merges touching parts for display).
- ``overlap_parts``: from the same sweep, the time covered at least twice
  (conflicting meetings).
- ``free_time_in_windows``: the free gaps of windows outside a sweep's union.
"""

from __future__ import annotations

import ibis
import sqlglot
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis import _
from ibis.util import gen_name

#: seconds in a day: UTC days key the join of gaps and windows; local epoch days (localtime)
DAY_S = 86400


def sweep(t: ir.Table, keys: list[str], start: str = "start_s", end: str = "end_s") -> ir.Table:
    """Rows (keys..., _a, _b, _m): non-empty intervals with _m, the maximum end of the
    intervals before them in start order (null for the first). One window, one sort.

    Any order of ties on the start gives the same unions below (a point of an interval
    not past _m lies in an earlier interval, which starts no later), so the sort key is
    the start alone.
    """
    t = t.select(*keys, _a=t[start], _b=t[end]).filter(_._b > _._a)
    w_prev = ibis.window(group_by=keys, order_by="_a", rows=(None, -1))
    return t.mutate(_m=_._b.max().over(w_prev))


def sweep_families(families: list[ir.Table], keys: list[str], start: str = "start_s",
                   end: str = "end_s") -> ir.Table:
    """``sweep`` of the intervals of several families, each disjoint within itself (rows
    keys..., _a, _b, _m as ``sweep``), without the running maximum's window.

    In start order a disjoint family's ends increase too, so the latest end of each
    family before a row is that family's largest; ``_m`` is the greatest of those. The
    latest non-null value (``LAST_VALUE ... IGNORE NULLS``) streams, where DuckDB
    evaluates a framed ``MAX`` through a segment tree: 1.6 against 2.7 CPU s for 4.9 M
    intervals (docs/performance.md, pass 7). Ibis 12 compiles no ``IGNORE NULLS`` on
    DuckDB, so this one window is SQL (DuckDB dialect, transpiled for Spark). Ties on the
    start cannot occur within a family (its intervals are disjoint and non-empty), and
    across families any order gives the same unions (``sweep``).
    """
    fam = union_all(*(f.select(*keys, _a=f[start], _b=f[end], _f=ibis.literal(i, "int8"))
                      for i, f in enumerate(families)))
    fam = fam.filter(fam._b > fam._a)
    name = gen_name("families")
    latest = ", ".join(f"LAST_VALUE(CASE WHEN _f = {i} THEN _b END IGNORE NULLS) OVER w"
                       for i in range(len(families)))
    m = f"GREATEST({latest})" if len(families) > 1 else latest
    key_cols = ", ".join(f'"{k}"' for k in keys)
    query = (f"SELECT {key_cols}, _a, _b, {m} AS _m FROM {name} "
             f"WINDOW w AS (PARTITION BY {key_cols} ORDER BY _a ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)")
    return sql_view(fam, name, query, {**{k: fam.schema()[k] for k in keys}, "_a": "int64", "_b": "int64",
                                       "_m": "int64"})


def sql_view(t: ir.Table, name: str, query: str, schema: dict) -> ir.Table:
    """``t.alias(name).sql(query, dialect="duckdb")`` with its schema given: Ibis 12 asks
    DuckDB for the schema through an API DuckDB 2 no longer has. The query is transpiled
    to the backend's dialect when the expression is compiled (Spark)."""
    dialect = t._find_backend().dialect
    if dialect is not None and sqlglot.Dialect.get_or_raise(dialect) != sqlglot.Dialect.get_or_raise("duckdb"):
        query = sqlglot.transpile(query, read="duckdb", write=dialect)[0]
    return ops.SQLStringView(parent=t.alias(name).op(), query=query, schema=ibis.schema(schema)).to_expr()


def union_parts(swept: ir.Table, keys: list[str]) -> ir.Table:
    """Disjoint parts (keys..., start_s, end_s) covering exactly the union, from ``sweep``.

    Each interval keeps its part after ``_m``; adjacent parts may touch.
    """
    t = swept
    a = ibis.greatest(t._a, ibis.coalesce(t._m, t._a))
    return t.select(*keys, start_s=a, end_s=t._b).filter(_.end_s > _.start_s)


def overlap_parts(swept: ir.Table, keys: list[str]) -> ir.Table:
    """Disjoint parts (keys..., start_s, end_s) covered by at least two intervals.

    The part of each interval already covered by an earlier one, ``[_a, min(_b, _m))``,
    lies in two intervals, and every point covered twice lies in such a part (take the
    later-starting interval); a second sweep makes the parts disjoint.
    """
    t = swept.filter(swept._m > swept._a)
    t = t.select(*keys, start_s=t._a, end_s=ibis.least(t._b, t._m))
    return disjoint_parts(t, keys)


def disjoint_parts(t: ir.Table, keys: list[str], start: str = "start_s", end: str = "end_s") -> ir.Table:
    """Union of intervals per ``keys`` as disjoint parts: rows (keys..., start_s, end_s)."""
    return union_parts(sweep(t, keys, start, end), keys)


def free_time_in_windows(windows: ir.Table, swept: ir.Table, min_gap_s: int,
                         span: tuple[int | ir.IntegerValue, int | ir.IntegerValue]) -> ir.Table:
    """Sum, per window, of its free gaps of at least ``min_gap_s`` seconds, where free
    means outside the union of the intervals of ``swept`` (a ``sweep`` keyed by
    ``person_id``). Returns (person_id, day, free_s) for windows with any such gap.

    ``windows`` has person_id, day, win_start_s, win_end_s; ``span`` ([lo, hi) epoch
    seconds, ints or int64 Ibis scalars) contains every window. The sweep already orders each person's intervals:
    the union's complement is the part before each interval starting past the running
    maximum ``_m`` (before the first: from ``lo``), and after the last end (to ``hi``).
    A free gap of a window is a complement gap cut to the window, so no second sort is
    needed: gaps and windows meet in a hash join on (person, UTC day), each pair counted
    on the day its overlap starts.
    """
    lo, hi = span
    lo_v, hi_v = (v if isinstance(v, ir.Value) else ibis.literal(v, "int64") for v in span)
    s = swept
    inner = s.filter(s._m.isnull() | (s._a > s._m)).select("person_id", g0=ibis.coalesce(s._m, lo), g1=s._a)
    last = s.group_by("person_id").agg(g0=s._b.max())
    idle = windows.select("person_id").distinct().anti_join(last, "person_id")
    g = union_all(inner, last.mutate(g1=hi_v), idle.mutate(g0=lo_v, g1=hi_v))
    g = g.select("person_id", g0=ibis.greatest(g.g0, lo), g1=ibis.least(g.g1, hi)).filter(_.g1 > _.g0)
    g = g.mutate(_d=ibis.range(g.g0 // DAY_S, (g.g1 - 1) // DAY_S + 1).unnest())
    w = windows.mutate(_d=ibis.range(windows.win_start_s // DAY_S, (windows.win_end_s - 1) // DAY_S + 1).unnest())
    j = g.join(w, ["person_id", "_d"])
    f0, f1 = ibis.greatest(j.g0, j.win_start_s), ibis.least(j.g1, j.win_end_s)
    j = j.select("person_id", "day", _d=j._d, _f0=f0, _free=f1 - f0)
    j = j.filter((j._free >= min_gap_s) & (j._free > 0) & (j._d == j._f0 // DAY_S))
    return j.group_by(["person_id", "day"]).agg(free_s=j._free.sum().cast("int64"))


def union_all(*tables: ir.Table) -> ir.Table:
    """UNION ALL of tables with the same columns, ignoring nullability differences."""
    cols = tables[0].columns

    def loose(t: ir.Table) -> ir.Table:
        # Cast only columns that are not already nullable (fewer nodes for Ibis to compile).
        sch = t.schema()
        if list(sch.names) == list(cols) and all(sch[c].nullable for c in cols):
            return t
        return t.select(**{c: t[c] if sch[c].nullable else t[c].cast(sch[c].copy(nullable=True))
                           for c in cols})

    out = loose(tables[0])
    for t in tables[1:]:
        out = out.union(loose(t), distinct=False)
    return out
