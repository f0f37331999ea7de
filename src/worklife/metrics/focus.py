"""Focus and uninterrupted time (docs/metrics.md).

Per workday, the working window (first to last working instant of the local date,
UTC) minus the union of qualifying meetings leaves gaps; ``focus_s`` is the sum of
gaps of at least ``focus_block_hours``. ``uninterrupted_s`` does the same against the
union of all collaboration (meetings, e-mail, chat) with ``uninterrupted_block_hours``.
Returns long rows (person_id, day, name, value) for the workdays with a gap that long
(no row: zero).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from worklife.config import Config
from worklife.metrics.intervals import free_time_in_windows, union_all


def focus_rows(windows: ir.Table, meeting_sweep: ir.Table, collab_sweep: ir.Table,
               config: Config, span: tuple[int | ir.IntegerValue, int | ir.IntegerValue]) -> ir.Table:
    """Long rows focus_s and uninterrupted_s per person-workday with any.

    ``meeting_sweep`` and ``collab_sweep`` are the ``sweep`` of qualifying meetings and
    of all collaboration (keyed by person); ``span`` ([lo, hi) epoch seconds) holds
    every window. A workday without a long enough gap has no row (its sum is zero).
    """
    focus_s = int(round(float(config["metrics.focus_block_hours"]) * 3600))
    unint_s = int(round(float(config["metrics.uninterrupted_block_hours"]) * 3600))
    f = free_time_in_windows(windows, meeting_sweep, focus_s, span)
    u = free_time_in_windows(windows, collab_sweep, unint_s, span)
    f = f.select("person_id", "day", name=ibis.literal("focus_s"), value=f.free_s)
    u = u.select("person_id", "day", name=ibis.literal("uninterrupted_s"), value=u.free_s)
    return union_all(f, u)
