"""Plotly figures of the report. Each takes already-aggregated (privacy-checked) frames.

No figure ever receives person-level rows or a suppressed team: aggregation and
suppression happen in ``worklife.report.aggregates``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from worklife.report.aggregates import TREND_METRICS
from worklife.report.heatmap import WEEKDAYS, heatmap_matrix

TEMPLATE = "plotly_white"
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}
COLORS = {"mean": "#3b6ea8", "median": "#7fa7d1", "p90": "#d1495b"}
TEAM_LINES_SHOWN = 6  # team trend: lines drawn at first; the rest wait in the legend
TREND_COLORS = {"meeting_hours": "#3b6ea8", "collaboration_hours": "#d1495b", "focus_hours": "#2e933c"}


def _layout(fig: go.Figure, title: str, **kw: object) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"}, template=TEMPLATE, font=FONT,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
        **kw,
    )
    return fig


def after_hours_by_team(stats: pd.DataFrame) -> go.Figure:
    """Grouped bars: mean, median and p90 after-hours collaboration hours per person-week."""
    fig = go.Figure()
    for col, label in (("mean", "Mean"), ("median", "Median"), ("p90", "90th percentile")):
        fig.add_bar(
            x=stats["team"], y=stats[col].round(2), name=label, marker_color=COLORS[col],
            hovertemplate="%{x}<br>" + label + ": %{y:.1f} h/week<extra></extra>",
        )
    return _layout(
        fig, "After-hours collaboration by team (hours per person-week)",
        barmode="group", yaxis_title="hours per person-week",
    )


def org_trend(org: pd.DataFrame) -> go.Figure:
    """Lines: org mean meeting, collaboration and focus hours per person, by week."""
    fig = go.Figure()
    for metric, label in TREND_METRICS.items():
        fig.add_scatter(
            x=org["week_start"], y=org[metric].round(2), name=label, mode="lines+markers",
            line_color=TREND_COLORS[metric], customdata=org["week"],
            hovertemplate="%{customdata}<br>" + label + ": %{y:.1f} h<extra></extra>",
        )
    return _layout(fig, "Organisation: weekly mean hours per person", yaxis_title="hours per person-week",
                   hovermode="x unified")


def team_trend(teams: pd.DataFrame, shown: int = TEAM_LINES_SHOWN) -> go.Figure:
    """Lines per team of one trend metric at a time, chosen with a drop-down menu.

    For each metric the ``shown`` teams with the highest mean are drawn; the others are
    listed in the legend (click to draw them).
    """
    fig = go.Figure()
    names = list(dict.fromkeys(teams["team"]))
    metrics = list(TREND_METRICS)
    visible: dict[str, list[bool | str]] = {}
    for metric in metrics:
        top = set(teams.groupby("team")[metric].mean().nlargest(shown).index)
        visible[metric] = [True if t in top else "legendonly" for t in names]
    for i, metric in enumerate(metrics):
        for k, team in enumerate(names):
            sub = teams[teams["team"] == team]
            fig.add_scatter(
                x=sub["week_start"], y=sub[metric].round(2), name=team, mode="lines+markers",
                visible=visible[metric][k] if i == 0 else False, customdata=sub["week"],
                hovertemplate=team + " %{customdata}: %{y:.1f} h<extra></extra>",
            )
    buttons = [
        {
            "label": label,
            "method": "update",
            "args": [
                {"visible": [v for m in metrics
                             for v in (visible[m] if m == metric else [False] * len(names))]},
                {"yaxis.title.text": f"{label.lower()} per person-week"},
            ],
        }
        for metric, label in TREND_METRICS.items()
    ]
    menu = {"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.15, "yanchor": "top"}
    fig.update_layout(updatemenus=[menu])
    return _layout(fig, "Teams: weekly mean hours per person", yaxis_title="meeting hours per person-week")


def activity_heatmap_figure(cells: pd.DataFrame, measure: str, title: str, unit: str,
                            colorscale: str = "Blues") -> go.Figure:
    """7 × 24 heat-map (weekday × local hour) of one measure of ``activity_heatmap``."""
    z = heatmap_matrix(cells, measure)
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{h:02d}" for h in range(24)], y=WEEKDAYS, colorscale=colorscale,
        colorbar={"title": {"text": unit}}, xgap=1, ygap=1,
        hovertemplate="%{y} %{x}:00–%{x}:59 local<br>%{z:.1f} " + unit + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, xaxis_title="local hour (each person's own time zone)")
