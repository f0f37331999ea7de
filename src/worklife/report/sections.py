"""Report sections: the record every stage hands to the report, and HTML helpers.

A ``Section`` is a titled piece of HTML with an anchor for the table of contents.
Sections are built in ``worklife.report`` from the records other stages return
(``report.policy_section``, ``report.validation``, ``report.savings_section``) with
``section()``, ``html_table()`` and ``figure_html()``, and passed to
``worklife.report.build_report(..., sections=[...])``; they are appended, in order,
after the built-in sections.

``collect_sections`` calls an explicit list of **providers**: functions
``(store, config, person_weeks) -> list[Section] | Section | None``. The CLI and the
demo pass ``worklife.report.providers.standard_providers()``.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Section:
    """One report section: a title (plain text), trusted HTML, and its anchor id."""

    title: str
    html: str
    anchor: str

    def render(self) -> str:
        """The section as an HTML ``<section>`` with its heading."""
        return (
            f'<section id="{html.escape(self.anchor)}">\n'
            f"<h2>{html.escape(self.title)}</h2>\n{self.html}\n</section>"
        )


def slug(text: str) -> str:
    """'After-hours by team' -> 'after-hours-by-team' (an HTML id)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "section"


def section(title: str, body_html: str, anchor: str | None = None) -> Section:
    """A Section whose anchor defaults to the slug of its title."""
    return Section(title=title, html=body_html, anchor=anchor or slug(title))


def unique_anchors(sections: Iterable[Section]) -> list[Section]:
    """Sections with duplicate anchors renamed ``x``, ``x-2``, ``x-3`` (order kept)."""
    seen: dict[str, int] = {}
    out = []
    for s in sections:
        base = s.anchor or slug(s.title)
        n = seen.get(base, 0) + 1
        seen[base] = n
        anchor = base if n == 1 else f"{base}-{n}"
        out.append(s if anchor == s.anchor else Section(s.title, s.html, anchor))
    return out


def fmt(value: Any, digits: int = 1) -> str:
    """A table cell: floats with ``digits`` decimals, None/NaN as an en dash, text escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool] | None = None,
    digits: int = 1,
    caption: str | None = None,
    empty: str = "No rows.",
) -> str:
    """An HTML table; ``columns`` are plain-text headers, cells are formatted by ``fmt``.

    ``numeric`` marks right-aligned columns (default: guessed from the first row).
    """
    rows = [list(r) for r in rows]
    if not rows:
        return f'<p class="empty">{html.escape(empty)}</p>'
    if numeric is None:
        numeric = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in rows[0]]
    head = "".join(
        f'<th{" class=num" if n else ""}>{html.escape(c)}</th>' for c, n in zip(columns, numeric)
    )
    body = "\n".join(
        "<tr>" + "".join(
            f'<td{" class=num" if n else ""}>{fmt(v, digits)}</td>' for v, n in zip(r, numeric)
        ) + "</tr>"
        for r in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="data">{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def frame_table(df: Any, columns: dict[str, str] | None = None, digits: int = 1, **kw: Any) -> str:
    """``html_table`` of a pandas DataFrame; ``columns`` maps column -> header (and selects).

    Without ``columns`` every column is shown, headed by its name with spaces for ``_``.
    """
    cols = columns or {c: str(c).replace("_", " ") for c in df.columns}
    sub = df[list(cols)]
    numeric = [str(sub[c].dtype).startswith(("int", "float", "Int", "Float", "uint")) for c in cols]
    rows = [[_py(v) for v in r] for r in sub.itertuples(index=False, name=None)]
    return html_table(list(cols.values()), rows, numeric=numeric, digits=digits, **kw)


def _py(value: Any) -> Any:
    """numpy/pandas scalars as plain Python values (for ``fmt``)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def figure_html(fig: Any, div_id: str, height_px: int = 420) -> str:
    """A plotly figure as a ``<div>`` + script; plotly.js itself is embedded once by the page."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_height=f"{height_px}px",
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )


def note(text: str, kind: str = "note") -> str:
    """A short highlighted paragraph (``kind``: note, privacy or warn)."""
    return f'<p class="{html.escape(kind)}">{html.escape(text)}</p>'


Provider = Callable[[Any, Any, Any], "list[Section] | Section | None"]


def collect_sections(store: Any, config: Any, person_weeks: Any, providers: Sequence[Provider]) -> list[Section]:
    """The sections of each provider, called in order with (store, config, person_weeks)."""
    out: list[Section] = []
    for provider in providers:
        got = provider(store, config, person_weeks)
        store.settle()  # a provider may leave a result unfetched; the next one must not fail
        if got is None:
            continue
        if isinstance(got, Section):
            got = [got]
        out.extend(got)
    return out
