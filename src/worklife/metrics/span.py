"""Activity-instant metrics: workweek span, weekend days, active blocks, quiet days.

Activity instants of P: starts and ends of P's qualifying meeting pieces (each counts
for the piece's local date), sent human e-mail and chat, and commits. Per local date:

- span: on a workday with at least one instant, last - first instant (UTC seconds),
  clamped to [span_min_hours, span_max_hours];
- weekend day active: a non-workday (weekend or holiday) with at least one instant;
- active blocks: local-clock ``active_block_minutes`` blocks that a meeting piece
  intersects (length > 0) or that contain a sent message or commit instant; blocks
  are labelled by local clock, so the repeated hour of a DST fold is one block;
- noisy day: after-hours collaboration touches more than
  ``quiet_day_max_after_hours_blocks`` local clock hours (the rest are quiet days).

Each function returns long rows (person_id, day, name, value int64).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from worklife.config import Config
from worklife.metrics.intervals import union_all
from worklife.metrics.localtime import DAY_S


def _long(t: ir.Table, name: str, value: ir.Value) -> ir.Table:
    return t.select("person_id", "day", name=ibis.literal(name), value=value.cast("int64"))


def activity_instants(meeting_pieces: ir.Table, located: ir.Table) -> ir.Table:
    """(person_id, day, at_s, is_workday) for meeting piece ends and located instants."""
    mp = meeting_pieces.select("person_id", "day", "start_s", "end_s", "is_workday")
    a = mp.select("person_id", "day", at_s=mp.start_s, is_workday=mp.is_workday)
    b = mp.select("person_id", "day", at_s=mp.end_s, is_workday=mp.is_workday)
    c = located.select("person_id", "day", "at_s", "is_workday")
    return union_all(a, b, c)


def span_and_weekend(instants: ir.Table, config: Config) -> ir.Table:
    """Long rows span_s (clamped, workdays) and weekend_active (1 per non-workday)."""
    lo = int(round(float(config["metrics.span_min_hours"]) * 3600))
    hi = int(round(float(config["metrics.span_max_hours"]) * 3600))
    d = instants.group_by(["person_id", "day"]).agg(
        first=_.at_s.min(), last=_.at_s.max(), wd=_.is_workday.max())
    raw = d["last"] - d["first"]
    span = ibis.least(ibis.greatest(raw, lo), hi)
    s = _long(d.filter(d.wd), "span_s", span)
    w = _long(d.filter(~d.wd), "weekend_active", ibis.literal(1))
    return union_all(s, w)


#: bits per mask word: a day's blocks are bits of positive int64 words (DuckDB and Spark)
BITS = 62


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(x: int) -> int:
    """Set bits of an int64 (DuckDB's and Spark's ``bit_count``)."""


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(x: int) -> int:
    """Bitwise or of a group's int64s (DuckDB's and Spark's ``bit_or``; Ibis 12 has no
    Spark rule for its own)."""


def _block_masks(pieces: ir.Table, a: str, b: str, size_s: int) -> ir.Table:
    """(person_id, day, _w, _mask): the local ``size_s`` blocks that [a, b) touches, as
    bits of its day's mask words (block p of the day is bit p % BITS of word p // BITS).

    [a, b) (local seconds) lies within local date ``day``, and ``size_s`` divides a day.
    A bit mask per row, or-ed per day, counts distinct blocks without a row per block
    and a DISTINCT over them (a day of 30-minute blocks is one word).
    """
    base = pieces.day * DAY_S
    t = pieces.select("person_id", "day", _p0=((pieces[a] - base) // size_s).cast("int64"),
                      _p1=((pieces[b] - 1 - base) // size_s).cast("int64"))
    if DAY_S // size_s > BITS:  # blocks shorter than 24 minutes: several words a day
        t = t.mutate(_w=ibis.range(t._p0 // BITS, t._p1 // BITS + 1).unnest())
    else:
        t = t.mutate(_w=ibis.literal(0, "int64"))
    lo = ibis.greatest(t._p0, t._w * BITS) - t._w * BITS
    hi = ibis.least(t._p1, t._w * BITS + BITS - 1) - t._w * BITS
    # BITS ones, shifted to leave hi - lo + 1 of them, then moved up to bit lo (a literal
    # this large is a 64-bit one in Spark SQL too, where a plain 1 would be 32-bit)
    ones = ibis.literal((1 << BITS) - 1, "int64")
    return t.select("person_id", "day", "_w", _mask=(ones >> (BITS - (hi - lo + 1))) << lo)


def _blocks_per_day(masks: ir.Table) -> ir.Table:
    """(person_id, day, n): distinct blocks per person-day from ``_block_masks`` rows."""
    m = masks.group_by(["person_id", "day", "_w"]).agg(_mask=_bit_or(_._mask))
    return m.group_by(["person_id", "day"]).agg(n=_bit_count(m._mask).sum())


def active_blocks(meeting_pieces: ir.Table, located: ir.Table, config: Config) -> ir.Table:
    """Long rows ``blocks``: distinct active local blocks per person-day."""
    size = int(config["metrics.active_block_minutes"]) * 60
    m = _block_masks(meeting_pieces, "local_start_s", "local_end_s", size)
    i = _block_masks(located.mutate(_end=located.local_s + 1), "local_s", "_end", size)
    c = _blocks_per_day(union_all(m, i))
    return _long(c, "blocks", c.n)


def noisy_days(collab_pieces: ir.Table, config: Config) -> ir.Table:
    """Long rows ``noisy_day`` = 1 where after-hours collaboration touches too many hours."""
    limit = int(config["metrics.quiet_day_max_after_hours_blocks"])
    p = collab_pieces
    w0 = p.day * DAY_S + p.work_start_s
    w1 = p.day * DAY_S + p.work_end_s
    whole = p.filter(~p.is_workday).select("person_id", "day", _a=p.local_start_s, _b=p.local_end_s)
    before = p.filter(p.is_workday).select(
        "person_id", "day", _a=p.local_start_s, _b=ibis.least(p.local_end_s, w0))
    after = p.filter(p.is_workday).select(
        "person_id", "day", _a=ibis.greatest(p.local_start_s, w1), _b=p.local_end_s)
    sub = union_all(whole, before, after).filter(_._b > _._a)
    c = _blocks_per_day(_block_masks(sub, "_a", "_b", 3600))
    return _long(c.filter(c.n > limit), "noisy_day", ibis.literal(1))
