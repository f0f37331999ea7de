"""Which person-weeks were measured, and when a chart would show nothing.

The metrics table is zero-filled (docs/metrics.md): a person-week without any activity
still has a row, and its ``focus_hours`` is the whole free working window (40 h on the
default 09:00–17:00, Mon–Fri) because no meeting interrupted it. The report does not
draw that as measured focus: for a person-week with **no activity of the person's own**
(no meeting attended, no message or chat sent, no active block, no collaboration time)
``focus_hours`` is left out (NaN), so every mean of focus covers measured weeks only.
Focus is the working window *minus meetings*, so it also needs a calendar: a person with
no meeting at all in the table (a mailbox or chat export alone) has no measured focus
in any week. Other measures keep their zeros: a week without meetings really has 0
meeting hours.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: Columns whose sum tells whether the person did anything that week.
ACTIVITY_COLUMNS = ("meetings", "emails_sent", "chats_sent", "active_connected_hours", "collaboration_hours")


def active_mask(pw: pd.DataFrame) -> pd.Series:
    """True for person-weeks with some activity of the person's own."""
    cols = [c for c in ACTIVITY_COLUMNS if c in pw.columns]
    if not cols:
        return pd.Series(True, index=pw.index)
    return pw[cols].apply(pd.to_numeric, errors="coerce").fillna(0).gt(0).any(axis=1)


def focus_measured(pw: pd.DataFrame) -> pd.Series:
    """True where focus was measured: an active person-week of a person with some meeting."""
    measured = active_mask(pw)
    if "meetings" in pw.columns:
        meetings = pd.to_numeric(pw["meetings"], errors="coerce").fillna(0)
        with_calendar = set(pw.loc[meetings > 0, "person_id"])
        measured &= pw["person_id"].isin(with_calendar)
    return measured


def without_unmeasured_focus(pw: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``pw`` whose ``focus_hours`` is NaN where focus was not measured (see above)."""
    out = pw.copy()
    if "focus_hours" in out.columns and len(out):
        out["focus_hours"] = pd.to_numeric(out["focus_hours"], errors="coerce").astype(float)
        out.loc[~focus_measured(pw), "focus_hours"] = float("nan")
    return out


def inactive_people(pw: pd.DataFrame) -> int:
    """People with no active person-week at all (only received, or nothing)."""
    if pw.empty:
        return 0
    active = active_mask(pw)
    return int(pw.loc[~pw["person_id"].isin(pw.loc[active, "person_id"]), "person_id"].nunique())


def all_blank(frame: pd.DataFrame, columns: Iterable[str], tol: float = 0.005) -> bool:
    """True when every value of ``columns`` is missing or rounds to 0 (charts draw 2 decimals).

    Such a chart would be flat lines on axes from -1 to 1; the report says so in words.
    """
    cols = [c for c in columns if c in frame.columns]
    if frame.empty or not cols:
        return True
    values = frame[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    return bool((values.abs() < tol).all().all())
