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


_TEMPLATE: dict[str, Any] | None = None


def _template() -> dict[str, Any]:
    """The ``plotly_white`` template as plain JSON (built once; figures are plain dicts)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        import plotly.io as pio

        _TEMPLATE = json.loads(json.dumps(pio.templates["plotly_white"].to_plotly_json()))
    return _TEMPLATE


def _layout(unit: str, x_title: str | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "template": _template(), "font": FONT, "margin": {"l": 60, "r": 20, "t": 20, "b": 50}, "height": 340,
        "legend": {"orientation": "h", "y": -0.2, "yanchor": "top"}, "colorway": PALETTE, "hovermode": "x unified",
        "yaxis": {"title": {"text": unit}}, "xaxis": {"title": {"text": x_title or ""}, "type": "category"}, **kw,
    }


def _json(data: list[dict[str, Any]], layout: dict[str, Any]) -> str:
    # "<" written as \u003c: nothing inside the <script type="application/json"> block can close it
    return json.dumps({"data": data, "layout": layout}, default=float).replace("<", "\\u003c")


def _numbers(values: Any) -> list[float | None]:
    out = []
    for v in values:
        f = float(v) if v is not None else math.nan
        out.append(None if math.isnan(f) else round(f, 2))
    return out


def line_chart(id: str, title: str, unit: str, df: pd.DataFrame, x: str, series: Mapping[str, str],
               message: str = "No data for this period.") -> Chart:
    """Lines of ``series`` (column -> label) over ``x``; no data when ``df`` is empty."""
    if df.empty:
        return Chart(id, title, unit, None, message)
    xs = [str(v) for v in df[x]]
    data = [{"type": "scatter", "mode": "lines+markers", "name": label, "x": xs, "y": _numbers(df[col]),
             "hovertemplate": f"{label}: %{{y:.1f}} {unit}<extra></extra>"} for col, label in series.items()]
    return Chart(id, title, unit, _json(data, _layout(unit, "ISO week")), message)


def bar_chart(id: str, title: str, unit: str, labels: list[str], values: Mapping[str, list[float]],
              message: str = "No data for this period.") -> Chart:
    """Grouped bars: one trace per ``values`` key over ``labels``."""
    if not labels or not values:
        return Chart(id, title, unit, None, message)
    data = [{"type": "bar", "name": name, "x": [str(v) for v in labels], "y": _numbers(ys),
             "hovertemplate": f"%{{x}}<br>{name}: %{{y:.1f}} {unit}<extra></extra>"} for name, ys in values.items()]
    return Chart(id, title, unit, _json(data, _layout(unit, barmode="group")), message)


def as_json(value: Any) -> str:
    return json.dumps(value, default=str)
