"""Focus and uninterrupted time (docs/metrics.md).

Per workday, the working window (first to last working instant of the local date,
UTC) minus the union of qualifying meetings leaves gaps; ``focus_s`` is the sum of
gaps of at least ``focus_block_hours``. ``uninterrupted_s`` does the same against the
union of all collaboration (meetings, e-mail, chat) with ``uninterrupted_block_hours``.
Returns long rows (person_id, day, name, value) for every workday window, zeros
included.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from worklife.config import Config
from worklife.metrics.intervals import gaps_in_windows, union_all


def focus_rows(windows: ir.Table, meeting_pieces: ir.Table, collab_pieces: ir.Table,
               config: Config) -> ir.Table:
    """Long rows focus_s and uninterrupted_s per person-workday."""
    keys = ["person_id", "day"]
    focus_s = int(round(float(config["metrics.focus_block_hours"]) * 3600))
    unint_s = int(round(float(config["metrics.uninterrupted_block_hours"]) * 3600))
    mp = meeting_pieces.select(*keys, "start_s", "end_s")
    cp = collab_pieces.select(*keys, "start_s", "end_s")
    # meeting and collaboration pieces are union parts cut at local midnights: disjoint
    f = gaps_in_windows(windows, mp, keys, focus_s, disjoint=True)
    u = gaps_in_windows(windows, cp, keys, unint_s, disjoint=True)
    f = f.select(*keys, name=ibis.literal("focus_s"), value=f.free_s.cast("int64"))
    u = u.select(*keys, name=ibis.literal("uninterrupted_s"), value=u.free_s.cast("int64"))
    return union_all(f, u)
