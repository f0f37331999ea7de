"""What templates draw: sortable, paged tables and Plotly charts with a title, unit and empty state.

Figures travel as JSON in ``<script type="application/json">`` blocks and are drawn by
``static/app.js`` with the local plotly.min.js, so the pages need no inline script
(the Content-Security-Policy forbids it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go

FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13}
PALETTE = ["#1f5f99", "#b8322a", "#2e7d32", "#7b4fa0", "#a35f00", "#00707a"]


def fmt_hours(value: Any, digits: int = 1) -> str:
    """Hours as text ("3.5"), or an em dash for missing values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.{digits}f}"


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str | float
    href: str | None = None


@dataclass
class Table:
    """A table the page can sort and page (``static/app.js``); ``empty`` is its no-data text."""

    id: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]]
    numeric: set[int] = field(default_factory=set)
    empty: str = "No data."


def _cell(value: Any, digits: int) -> Cell:
    if isinstance(value, bool):
        return Cell("yes" if value else "no", int(value))
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return Cell("—", -math.inf)
    if isinstance(value, float):
        return Cell(f"{value:,.{digits}f}", value)
    if isinstance(value, int):
        return Cell(f"{value:,}", value)
    return Cell(str(value), str(value).lower())


def table(id: str, caption: str, df: pd.DataFrame, columns: Mapping[str, str], digits: int = 1,
          links: Mapping[str, Callable[[Mapping[str, Any]], str]] | None = None,
          empty: str = "No data.") -> Table:
    """A ``Table`` of ``df``'s ``columns`` (name -> header); ``links`` make a column's cells links."""
    links = links or {}
    cols = [c for c in columns if c in df.columns]
    rows = []
    for rec in df.to_dict("records"):
        row = []
        for c in cols:
            cell = _cell(rec[c], digits)
            if c in links:
                cell = Cell(cell.text, cell.sort, links[c](rec))
            row.append(cell)
        rows.append(row)
    numeric = {i for i, c in enumerate(cols) if pd.api.types.is_numeric_dtype(df[c]) and df[c].dtype != bool}
    return Table(id, caption, [columns[c] for c in cols], rows, numeric, empty)


@dataclass
class Chart:
    """A figure with its title and unit; ``figure_json`` None means "no data" (``message``)."""

    id: str
    title: str
    unit: str
    figure_json: str | None
    message: str = "No data for this period."


def _layout(fig: go.Figure, unit: str, x_title: str | None = None) -> go.Figure:
    fig.update_layout(
        template="plotly_white", font=FONT, margin={"l": 60, "r": 20, "t": 20, "b": 50}, height=340,
        legend={"orientation": "h", "y": -0.2, "yanchor": "top"}, yaxis_title=unit, xaxis_title=x_title,
        colorway=PALETTE, hovermode="x unified",
    )
    return fig


def _json(fig: go.Figure) -> str:
    return str(fig.to_json()).replace("</", "<\\/")


def line_chart(id: str, title: str, unit: str, df: pd.DataFrame, x: str, series: Mapping[str, str],
               message: str = "No data for this period.") -> Chart:
    """Lines of ``series`` (column -> label) over ``x``; no data when ``df`` is empty."""
    if df.empty:
        return Chart(id, title, unit, None, message)
    fig = go.Figure()
    for col, label in series.items():
        fig.add_scatter(x=df[x].astype(str), y=df[col].astype(float).round(2), name=label, mode="lines+markers",
                        hovertemplate=f"{label}: %{{y:.1f}} {unit}<extra></extra>")
    return Chart(id, title, unit, _json(_layout(fig, unit, "ISO week")), message)


def bar_chart(id: str, title: str, unit: str, labels: list[str], values: Mapping[str, list[float]],
              message: str = "No data for this period.") -> Chart:
    """Grouped bars: one trace per ``values`` key over ``labels``."""
    if not labels or not values:
        return Chart(id, title, unit, None, message)
    fig = go.Figure()
    for name, ys in values.items():
        fig.add_bar(x=labels, y=[round(float(v), 2) for v in ys], name=name,
                    hovertemplate=f"%{{x}}<br>{name}: %{{y:.1f}} {unit}<extra></extra>")
    fig.update_layout(barmode="group")
    return Chart(id, title, unit, _json(_layout(fig, unit)), message)


def as_json(value: Any) -> str:
    return json.dumps(value, default=str)
