"""The personal report (``worklife report --person ID``): one person's own weeks, for them.

Group-size suppression protects people from being singled out in *group* figures; it
does not apply to a person reading their own numbers, so nothing here is suppressed.
In exchange the page holds nobody else's identity: no counterpart, recipient, meeting
title, team-mate or source path — only the person's own id and numbers, their own
activity heat-map and the kinds of sources ingested.

    from worklife.report.personal import build_personal
    build_personal(store, config, "me.html", "alice@example.com")
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
import plotly.graph_objects as go

import worklife
from worklife.config import Config
from worklife.errors import WorklifeError
from worklife.report import aggregates as agg
from worklife.report.activity import all_blank, without_unmeasured_focus
from worklife.report.build import date_span, heatmap_figures
from worklife.report.charts import FONT, TEMPLATE
from worklife.report.defaults import default_counts, default_notes
from worklife.report.heatmap import activity_heatmap
from worklife.report.output import write_atomically
from worklife.report.sections import Section, figure_html, frame_table, note, section
from worklife.store import Store

log = logging.getLogger(__name__)

FIGURE_ID = "fig-personal-weeks"
LINES = {
    "collaboration_hours": ("Collaboration", "#d1495b"),
    "after_hours_collaboration_hours": ("After-hours collaboration", "#7b2d8b"),
    "meeting_hours": ("Meetings", "#3b6ea8"),
    "focus_hours": ("Focus", "#2e933c"),
    "workweek_span": ("Workweek span", "#888888"),
}
WEEK_TABLE = {
    "week": "week", "meeting_hours": "meetings h", "collaboration_hours": "collaboration h",
    "after_hours_collaboration_hours": "after hours h", "workweek_span": "span h",
    "focus_hours": "focus h", "emails_sent": "e-mails sent", "chats_sent": "chats sent",
}


def own_person_weeks(store: Store, config: Config, person_id: str, period: str = "week") -> pd.DataFrame:
    """``compute`` rows of one person, from their first to their last active week (or date).

    Read from the stored results (``worklife.metrics.results.person_weeks``; a writable
    store is updated first). On a read-only store whose results are stale or absent, the
    person alone is computed in memory (people are independent), with one line saying so.
    """
    from worklife.metrics import person_metrics, prepare
    from worklife.metrics.results import person_weeks
    from worklife.metrics.stored import in_memory_note, own_range, results_state

    state = results_state(store, config)
    if state.usable:
        return own_range(person_weeks(store, config, persons=[person_id], period=period), period)
    log.warning(in_memory_note(state, str(getattr(store, "path", "this store"))))
    run = prepare(store, config, person_ids=[person_id])
    df = person_metrics(run, period)
    return df[df["person_id"] == person_id].reset_index(drop=True)


def _schedule(store: Store, config: Config, person_id: str) -> dict[str, str]:
    """The person's zone (and where it came from), hours, workdays and jurisdiction."""
    cols = store.columns("people")
    extra = ", tz_source" if "tz_source" in cols else ", NULL"
    row = store.rows(
        f"SELECT tz, work_start, work_end, workdays, jurisdiction{extra} FROM people WHERE person_id = ?",
        [person_id])
    tz, ws, we, days, jur, src = row[0] if row else (None,) * 6

    def pick(value: Any, key: str) -> str:
        if value not in (None, ""):
            return str(value)
        return f"{config[key]} (default)" if config[key] else "none set"

    zone = pick(tz, "defaults.tz") + (f", from {src}" if src and tz else "")
    return {"zone": zone, "hours": f"{pick(ws, 'defaults.work_start')} – {pick(we, 'defaults.work_end')}",
            "workdays": pick(days, "defaults.workdays"), "jurisdiction": pick(jur, "defaults.jurisdiction")}


def _trend(pw: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for col, (label, colour) in LINES.items():
        fig.add_scatter(x=pw["week"].astype(str), y=pw[col].astype(float).round(2), name=label,
                        mode="lines+markers", line_color=colour,
                        hovertemplate="%{x}<br>" + label + ": %{y:.1f} h<extra></extra>")
    fig.update_layout(title={"text": "Your weeks (hours)", "x": 0}, template=TEMPLATE, font=FONT,
                      yaxis_title="hours per week", hovermode="x unified", xaxis_type="category",
                      legend={"orientation": "h", "y": -0.12, "yanchor": "top"},
                      margin={"l": 60, "r": 20, "t": 60, "b": 40})
    return fig


def _cards(pw: pd.DataFrame) -> str:
    active = pw[pw["collaboration_hours"].gt(0) | pw["meetings"].gt(0)
                | pw["emails_sent"].gt(0) | pw["chats_sent"].gt(0)]
    mean = (lambda c: f"{active[c].mean():.1f} h" if len(active) and active[c].notna().any() else "–")
    cards = [
        (f"{len(pw):,}", "weeks in the data"), (f"{len(active):,}", "weeks with activity"),
        (mean("collaboration_hours"), "collaboration / active week"),
        (mean("after_hours_collaboration_hours"), "after hours / active week"),
        (mean("focus_hours"), "focus / measured week"),
        (f"{int(pw['over_40h'].astype(bool).sum()):,}", "weeks over the hours threshold"),
    ]
    return "".join(f'<div class="card"><div class="value">{html.escape(v)}</div>'
                   f'<div class="label">{html.escape(label)}</div></div>' for v, label in cards)


def _sections(store: Store, config: Config, person_id: str, pw: pd.DataFrame) -> list[Section]:
    if all_blank(pw, LINES):
        weeks = note("No meetings, collaboration or measured focus in any week: nothing to draw.", "note")
    else:
        weeks = f'<div class="figure">{figure_html(_trend(pw), FIGURE_ID)}</div>'
    focus = ("<p>Focus: blocks of two hours or more inside your working hours free of meetings; "
             "left empty for weeks without any activity of yours, and for every week when the "
             "store has no meeting of yours (focus needs your calendar).</p>")
    table = frame_table(pw.assign(week=pw["week"].astype(str)), WEEK_TABLE, empty="No weeks.")
    cells = activity_heatmap(store, config, person_id)
    heat = ("<p>When you work, on your own clock. Totals: "
            f"{int(cells.messages_sent.sum()):,} messages sent and {cells.meeting_hours.sum():,.1f} "
            "meeting hours.</p>\n" + heatmap_figures(cells))
    return [section("Your weeks", weeks + focus + table, "your-weeks"),
            section("When you work", heat, "when-you-work")]


def render_personal(store: Store, config: Config | None, person_id: str, person_weeks: Any = None,
                    title: str | None = None, generated_at: datetime | None = None) -> str:
    """The personal report of ``person_id`` as one HTML string (plotly.js inline)."""
    from plotly.offline import get_plotlyjs

    config = config or Config()
    pw = own_person_weeks(store, config, person_id) if person_weeks is None else agg.as_frame(person_weeks)
    agg.check_columns(pw)
    pw = without_unmeasured_focus(pw[pw["person_id"] == person_id].sort_values("week").reset_index(drop=True))
    if pw.empty:
        raise WorklifeError(f"{person_id} has no person-weeks: no meeting, message or chat of theirs in "
                            f"{store.path}")
    s = _schedule(store, config, person_id)
    first, last = pd.to_datetime(pw["week_start"]).min().date(), pd.to_datetime(pw["week_start"]).max().date()
    title = title or f"worklife: {person_id}"
    when = f" Generated {generated_at:%Y-%m-%d %H:%M %Z}." if generated_at else ""
    notes = "".join(note(n, "warn") for n in default_notes(default_counts(store, [person_id]), config))
    kinds = ", ".join(r[0] for r in store.rows(
        "SELECT DISTINCT kind FROM ingest_log ORDER BY 1")) or "none logged"
    header = (
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="subtitle">Your own work pattern over {len(pw):,} week{"s" if len(pw) != 1 else ""}, '
        f"{html.escape(date_span(first, last + pd.Timedelta(days=6)))}, on your own clock: zone "
        f"{html.escape(s['zone'])}; working hours {html.escape(s['hours'])} on {html.escape(s['workdays'])}; "
        f"holidays {html.escape(s['jurisdiction'])}. Sources: {html.escape(kinds)}.{when}</p>\n"
        f'<div class="cards">{_cards(pw)}</div>\n{notes}'
        + note("A personal report: your own numbers, not suppressed for group size. It names nobody "
               "else — keep it to yourself or share it as you choose.", "privacy")
    )
    built = _sections(store, config, person_id, pw)
    page = Template(resources.files("worklife.report").joinpath("template.html").read_text("utf-8"))
    version = html.escape(getattr(worklife, "__version__", ""))
    toc = "".join(f'<li><a href="#{html.escape(b.anchor)}">{html.escape(b.title)}</a></li>' for b in built)
    return page.substitute(
        title=html.escape(title), version=version, plotly_js=get_plotlyjs(), header=header,
        toc=f'<nav class="toc"><h2>Contents</h2><ol>\n{toc}\n</ol></nav>',
        body="\n".join(b.render() for b in built),
        footer=f"worklife {version} · personal report, self-contained, no network needed",
    )


def build_personal(store: Store, config: Config | None, out_path: str | Path, person_id: str,
                   person_weeks: Any = None, title: str | None = None,
                   generated_at: datetime | None = None) -> Path:
    """Write the personal report of ``person_id`` to ``out_path`` (atomically) and return its path."""
    text = render_personal(store, config, person_id, person_weeks, title, generated_at)
    out = write_atomically(text, out_path)
    return out
