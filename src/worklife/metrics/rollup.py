"""Roll-ups: person-period rows aggregated per team or for the whole org.

Each (group, period) row has ``people`` (distinct people) and, per metric, ``<m>_mean``,
``<m>_median`` and ``<m>_p90`` (linear interpolation between closest ranks, as
numpy/pandas ``quantile``). Groups under ``privacy.min_group_size`` people are
suppressed (``suppressed = True``, values emptied), and so is any further team-period
that would let a suppressed one be derived from the org total (complementary
suppression, ``worklife.privacy.suppression``): ``--by team`` and ``--by org`` use
the same pattern, so neither can be subtracted from the other.
The person-period table is small (people × periods), so this runs in pandas.
"""

from __future__ import annotations

import pandas as pd

from worklife.config import Config
from worklife.privacy import blank_rows
from worklife.privacy.suppression import ORG, min_group_size, protect_grid


def rollup(df: pd.DataFrame, people: pd.DataFrame, by: str, period: str, config: Config) -> pd.DataFrame:
    """Aggregate ``compute`` person rows by ``team`` or ``org`` (all people)."""
    from worklife.metrics import METRIC_COLUMNS

    key = "week" if period == "week" else "date"
    if df.empty:  # people but no person-periods: nothing to aggregate (quantile needs numbers)
        extra = ["week_start"] if period == "week" else ["week"]
        stats = [f"{m}_{s}" for m in METRIC_COLUMNS for s in ("mean", "median", "p90")]
        return pd.DataFrame(columns=[by, key, *extra, "people", *stats, "suppressed"])
    teams = people[["person_id", "team"]].copy()
    d = df.merge(teams, on="person_id", how="left")
    d["team"] = d["team"].fillna("(no team)")
    grid = protect_grid(d, "team", key, min_group_size(config))
    d["group"] = "org" if by == "org" else d["team"]
    d["over_40h"] = d["over_40h"].astype(float)
    for m in METRIC_COLUMNS:  # an empty person table has object columns, which cannot be averaged
        d[m] = pd.to_numeric(d[m], errors="coerce")
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
    hide = [not grid.shows(ORG if by == "org" else g, str(p)) for g, p in zip(out[by], out[key])]
    return blank_rows(out, hide, [by, key, *extra, "people"])
