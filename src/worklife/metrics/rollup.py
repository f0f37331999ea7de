"""Roll-ups: person-period rows aggregated per team or for the whole org.

Each (group, period) row has ``people`` (distinct people) and, per metric, ``<m>_mean``,
``<m>_median`` and ``<m>_p90`` (linear interpolation between closest ranks, as
numpy/pandas ``quantile``). Groups under ``privacy.min_group_size`` people are
suppressed (``suppressed = True``, values emptied) by ``privacy.suppress_small_groups``.
The person-period table is small (people × periods), so this runs in pandas.
"""

from __future__ import annotations

import pandas as pd

from worklife.config import Config
from worklife.privacy import suppress_small_groups


def rollup(df: pd.DataFrame, people: pd.DataFrame, by: str, period: str, config: Config) -> pd.DataFrame:
    """Aggregate ``compute`` person rows by ``team`` or ``org`` (all people)."""
    from worklife.metrics import METRIC_COLUMNS

    key = "week" if period == "week" else "date"
    extra = ["week_start"] if period == "week" else ["week"]
    if df.empty:  # people but no person-periods: nothing to aggregate (quantile needs numbers)
        stats = [f"{m}_{s}" for m in METRIC_COLUMNS for s in ("mean", "median", "p90")]
        return pd.DataFrame(columns=[by, key, *extra, "people", *stats, "suppressed"])
    d = df.copy()
    if by == "org":
        d["group"] = "org"
    else:
        teams = people[["person_id", "team"]].copy()
        teams["team"] = teams["team"].fillna("(no team)")
        d = d.merge(teams, on="person_id", how="left").rename(columns={"team": "group"})
    d["over_40h"] = d["over_40h"].astype(float)
    extra = ["week_start"] if period == "week" else ["week"]
    gcols = ["group", key, *extra]
    g = d.groupby(gcols, sort=True)
    out = g["person_id"].nunique().rename("people").to_frame()
    for m in METRIC_COLUMNS:
        col = g[m]
        out[f"{m}_mean"] = col.mean()
        out[f"{m}_median"] = col.median()
        out[f"{m}_p90"] = col.quantile(0.9)
    out = out.reset_index().rename(columns={"group": by})
    return suppress_small_groups(out, [by, key, *extra], "people", config=config)
