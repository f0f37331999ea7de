"""Working time: one definition, rendered in Python, Ibis (metrics) and SQL (policy, digest).

An instant is **working time** for a person (docs/metrics.md) iff its local date is a
**workday** — its weekday is one of the person's workdays and it is not a public holiday
of their jurisdiction — and ``work_start <= t < work_end``, where ``t`` is the local time
of day in whole seconds after local midnight (wall clock; local time = UTC instant + the
``utc_offset_s`` of the person's zone in force at that instant). Everything else is
after hours. The workdays travel as a **mask** of seven '0'/'1' characters, Monday first.

Users: ``metrics.localtime`` (Ibis), ``policy._localtime`` and ``digest.numbers`` (SQL),
``digest.webhook`` (Python). Each rendering below takes the same inputs (time of day in seconds, working window in
seconds, the workday flag); ``tests/test_rules_worktime.py`` checks that metrics, policy
and digest classify the synthetic organisation's instants identically.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # ibis is needed only by the metric engine's rendering
    import ibis.expr.types as ir


def workday_mask(workdays: Iterable[int]) -> str:
    """Weekday numbers (Monday = 0) as the 7-character mask, e.g. {0..4} -> '1111100'."""
    days = set(workdays)
    return "".join("1" if i in days else "0" for i in range(7))


# -- Python ---------------------------------------------------------------------------------

def is_workday(mask: str, day: date, is_holiday: bool) -> bool:
    """``day`` is a workday: its weekday is in ``mask`` and it is not a public holiday."""
    return mask[day.weekday()] == "1" and not is_holiday


def is_working(time_of_day_s: int, work_start_s: int, work_end_s: int, workday: bool) -> bool:
    """Working time: a workday and ``work_start_s <= time_of_day_s < work_end_s`` (seconds)."""
    return workday and work_start_s <= time_of_day_s < work_end_s


# -- Ibis -----------------------------------------------------------------------------------

def working_ibis(time_of_day_s: ir.IntegerValue, work_start_s: ir.IntegerValue,
                 work_end_s: ir.IntegerValue, workday: ir.BooleanValue) -> ir.BooleanValue:
    """``is_working`` as an Ibis expression (columns in whole seconds)."""
    return workday & (time_of_day_s >= work_start_s) & (time_of_day_s < work_end_s)


# -- SQL (DuckDB; transpiled to Spark by worklife.policy.sql) ---------------------------------

def time_of_day_sql(local_ts: str) -> str:
    """SQL: whole seconds after local midnight of the local wall-clock TIMESTAMP ``local_ts``."""
    return f"(hour({local_ts}) * 3600 + minute({local_ts}) * 60 + second({local_ts}))"


def weekday_in_mask_sql(local: str, mask: str) -> str:
    """SQL boolean: the weekday of ``local`` (DATE or local TIMESTAMP) is in ``mask``."""
    return f"(substr({mask}, isodow({local}), 1) = '1')"


def workday_sql(local: str, mask: str, holiday: str) -> str:
    """SQL boolean: a workday; ``holiday`` is SQL that is true when the local date is a public holiday."""
    return f"({weekday_in_mask_sql(local, mask)} AND NOT ({holiday}))"


def working_sql(local_ts: str, work_start_s: str, work_end_s: str, mask: str, holiday: str) -> str:
    """SQL boolean: ``is_working`` for the local wall-clock TIMESTAMP ``local_ts``."""
    tod = time_of_day_sql(local_ts)
    return (f"({workday_sql(local_ts, mask, holiday)} AND {tod} >= {work_start_s} "
            f"AND {tod} < {work_end_s})")
