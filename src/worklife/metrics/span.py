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


def _blocks_of(pieces: ir.Table, a: str, b: str, size_s: int) -> ir.Table:
    """(person_id, block) for every block of ``size_s`` local seconds that [a, b) touches.

    Pieces lie within one local date, so each yields at most a day's worth of blocks.
    """
    t = pieces.select("person_id", _b0=(pieces[a] // size_s).cast("int64"),
                      _b1=((pieces[b] - 1) // size_s).cast("int64"))
    # An array of block numbers, unnested (sequence/explode on Spark): cheaper than an
    # inequality join against a table of offsets.
    return t.select("person_id", block=ibis.range(t._b0, t._b1 + 1).unnest())


def active_blocks(meeting_pieces: ir.Table, located: ir.Table, config: Config) -> ir.Table:
    """Long rows ``blocks``: distinct active local blocks per person-day."""
    size = int(config["metrics.active_block_minutes"]) * 60
    m = _blocks_of(meeting_pieces, "local_start_s", "local_end_s", size)
    i = located.select("person_id", block=(located.local_s // size).cast("int64"))
    u = union_all(m, i).distinct()
    u = u.mutate(day=(u.block * size // DAY_S).cast("int64"))
    c = u.group_by(["person_id", "day"]).agg(value=_.block.count())
    return _long(c, "blocks", c.value)


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
    hours = _blocks_of(sub, "_a", "_b", 3600).distinct()
    hours = hours.mutate(day=(hours.block * 3600 // DAY_S).cast("int64"))
    c = hours.group_by(["person_id", "day"]).agg(n=_.block.count())
    return _long(c.filter(c.n > limit), "noisy_day", ibis.literal(1))
