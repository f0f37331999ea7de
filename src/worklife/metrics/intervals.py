"""Interval algebra as window functions (gaps and islands), portable to DuckDB and Spark.

Intervals are half-open ``[start_s, end_s)`` in int64 epoch seconds UTC.

- ``sweep`` / ``union_parts`` / ``disjoint_parts``: the union of intervals per key as
  disjoint (not necessarily maximal) parts, in **one** window pass: each interval keeps
  only its part after the running maximum of the ends before it, in start order. Sums,
  splits at local midnights, touched blocks and free gaps only need disjointness, so
  the metric pipeline uses these (explain merges touching parts for display).
- ``overlap_parts``: from the same sweep, the time covered at least twice
  (conflicting meetings).
- ``gaps_in_windows``: the free gaps of windows after removing covered pieces.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _


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


def gaps_in_windows(windows: ir.Table, pieces: ir.Table, keys: list[str], min_gap_s: int,
                    disjoint: bool = False) -> ir.Table:
    """Sum, per window, of free gaps of at least ``min_gap_s`` seconds.

    ``windows`` has keys + win_start_s, win_end_s (one window per key); ``pieces`` has
    keys + start_s, end_s (covered time, possibly overlapping; ``disjoint=True`` when
    they cannot overlap, e.g. union parts: then a cheaper ``lag`` window replaces the
    running maximum). Returns keys + free_s.
    """
    w = windows
    p = pieces.join(w, keys)
    p = p.select(*keys, _a=ibis.greatest(p.start_s, p.win_start_s),
                 _b=ibis.least(p.end_s, p.win_end_s)).filter(_._b > _._a)
    allp = union_all(p, w.select(*keys, _a=w.win_start_s, _b=w.win_start_s),
                     w.select(*keys, _a=w.win_end_s, _b=w.win_end_s))
    if disjoint:
        # Disjoint pieces in (start, end) order have non-decreasing ends, and so do the
        # empty window edges (the start edge sorts before a piece starting with the
        # window: its end is smaller), so the running maximum is the previous row's end.
        allp = allp.mutate(_prev=_._b.lag().over(ibis.window(group_by=keys, order_by=["_a", "_b"])))
    else:
        # Start order alone suffices: of rows starting together, whichever comes second
        # sees the first's end at or past its start, so the gaps are the same in either order.
        w_prev = ibis.window(group_by=keys, order_by="_a", rows=(None, -1))
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
