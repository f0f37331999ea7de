"""Interval algebra as window functions (gaps and islands), portable to DuckDB and Spark.

Intervals are half-open ``[start_s, end_s)`` in int64 epoch seconds UTC.

- ``islands``: the union of intervals per key, as disjoint maximal intervals (touching
  intervals merge).
- ``coverage_at_least``: the parts covered by at least ``n`` intervals at once
  (a sweep over +1/-1 endpoint events), e.g. conflicting meeting time for n = 2.
- ``gaps_in_windows``: the free gaps of windows after removing covered pieces.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _


def islands(t: ir.Table, keys: list[str], start: str = "start_s", end: str = "end_s") -> ir.Table:
    """Union of intervals per ``keys``: rows (keys..., start_s, end_s), disjoint and maximal."""
    # Distinct rows make (keys, _a, _b) a total order, so both windows below see the same
    # order (with duplicate rows, two window operators may order ties differently).
    t = t.select(*keys, _a=t[start], _b=t[end]).filter(_._b > _._a).distinct()
    w_prev = ibis.window(group_by=keys, order_by=["_a", "_b"], rows=(None, -1))
    t = t.mutate(_prev=_._b.max().over(w_prev))
    t = t.mutate(_new=ibis.ifelse(_._prev.isnull() | (_._a > _._prev), 1, 0))
    w_cum = ibis.window(group_by=keys, order_by=["_a", "_b"], rows=(None, 0))
    t = t.mutate(_isl=_._new.sum().over(w_cum))
    return t.group_by([*keys, "_isl"]).agg(start_s=_._a.min(), end_s=_._b.max()).drop("_isl")


def coverage_at_least(t: ir.Table, keys: list[str], n: int, start: str = "start_s",
                      end: str = "end_s") -> ir.Table:
    """Pieces (keys..., start_s, end_s) covered by at least ``n`` intervals at once."""
    t = t.filter(t[end] > t[start])
    ev = union_all(t.select(*keys, _t=t[start], _d=ibis.literal(1, "int64")),
                   t.select(*keys, _t=t[end], _d=ibis.literal(-1, "int64")))
    ev = ev.group_by([*keys, "_t"]).agg(_d=_._d.sum())
    w_cum = ibis.window(group_by=keys, order_by="_t", rows=(None, 0))
    w_all = ibis.window(group_by=keys, order_by="_t")
    ev = ev.mutate(_cnt=_._d.sum().over(w_cum), _next=_._t.lead().over(w_all))
    ev = ev.filter((ev._cnt >= n) & ev._next.notnull())
    return ev.select(*keys, start_s=ev._t, end_s=ev._next)


def gaps_in_windows(windows: ir.Table, pieces: ir.Table, keys: list[str], min_gap_s: int) -> ir.Table:
    """Sum, per window, of free gaps of at least ``min_gap_s`` seconds.

    ``windows`` has keys + win_start_s, win_end_s (one window per key); ``pieces`` has
    keys + start_s, end_s (covered time, possibly overlapping). Returns keys + free_s.
    """
    w = windows
    p = pieces.join(w, keys)
    p = p.select(*keys, _a=ibis.greatest(p.start_s, p.win_start_s),
                 _b=ibis.least(p.end_s, p.win_end_s)).filter(_._b > _._a)
    allp = union_all(p, w.select(*keys, _a=w.win_start_s, _b=w.win_start_s),
                     w.select(*keys, _a=w.win_end_s, _b=w.win_end_s))
    w_prev = ibis.window(group_by=keys, order_by=["_a", "_b"], rows=(None, -1))
    allp = allp.mutate(_prev=_._b.max().over(w_prev))
    allp = allp.mutate(_gap=ibis.ifelse(_._prev.notnull() & (_._a > _._prev), _._a - _._prev, 0))
    allp = allp.mutate(_free=ibis.ifelse(_._gap >= min_gap_s, _._gap, 0).cast("int64"))
    return allp.group_by(keys).agg(free_s=_._free.sum())


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
