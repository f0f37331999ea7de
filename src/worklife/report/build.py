"""Assemble the self-contained HTML report: header, table of contents, sections.

plotly.js is embedded once, inline in ``<head>``; every figure is a ``<div>`` rendered
with ``include_plotlyjs=False``. The file references nothing on the network, so it
opens offline and can be mailed as one attachment.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

import worklife
from worklife.config import Config
from worklife.privacy.suppression import min_group_size, too_small
from worklife.report import aggregates as agg
from worklife.report import charts
from worklife.report.activity import all_blank, inactive_people, without_unmeasured_focus
from worklife.report.defaults import default_counts, default_notes
from worklife.report.heatmap import activity_heatmap
from worklife.report.output import write_atomically
from worklife.report.sections import (
    Section,
    figure_html,
    frame_table,
    note,
    section,
    unique_anchors,
)
from worklife.store import Store

log = logging.getLogger(__name__)

DEFAULT_TITLE = "worklife report"

# Div ids of the built-in figures (tests and other tools find the charts by these).
FIGURE_IDS = {
    "after_hours": "fig-after-hours-by-team",
    "org_trend": "fig-meeting-load-org",
    "team_trend": "fig-meeting-load-teams",
    "heat_messages": "fig-heatmap-messages",
    "heat_meetings": "fig-heatmap-meetings",
}


def load_person_weeks(store: Store, config: Config) -> pd.DataFrame:
    """``worklife.metrics.compute(store, config)`` as a DataFrame."""
    from worklife.metrics import (
        compute,  # the metric engine (Ibis) loads only when the report needs it
    )

    return agg.as_frame(compute(store, config))


def _prepare(store: Store, config: Config, person_weeks: Any) -> pd.DataFrame:
    """The person-week table, its focus left out where a week had no activity (report.activity)."""
    pw = load_person_weeks(store, config) if person_weeks is None else agg.as_frame(person_weeks)
    agg.check_columns(pw)
    return without_unmeasured_focus(pw)


def why_no_person_weeks(store: Store) -> str:
    """Why a store yields no person-weeks, in words, with what to do (``worklife.metrics.empty``)."""
    from worklife.metrics.empty import why_no_person_weeks as why

    return why(store, "This store")


# -- header -----------------------------------------------------------------------------

def date_span(first: date | None, last: date | None) -> str:
    """'3 Mar – 30 Mar 2025', or with both years when they differ."""
    if first is None or last is None:
        return "–"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def _header(title: str, s: agg.OrgSummary, generated_at: datetime | None, notes: str = "") -> str:
    span = date_span(s.first_day, s.last_day)
    weeks = f"{s.first_week} – {s.last_week}" if s.first_week != s.last_week else str(s.first_week or "–")
    read = int(s.sources["records_read"].fillna(0).sum()) if not s.sources.empty else 0
    cards = [
        (f"{s.people:,}", "people measured"),
        (f"{s.weeks:,}", f"ISO weeks ({weeks})"),
        (span, "date range (local weeks)"),
        (f"{len(s.team_sizes.shown):,}", "teams shown"),
        (f"{read:,}", "records read"),
        (f"{s.quarantined:,}", "records quarantined"),
    ]
    card_html = "".join(
        f'<div class="card{" wide" if len(v) > 8 else ""}"><div class="value">{html.escape(v)}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for v, label in cards
    )
    if s.sources.empty:
        sources = note("No ingest runs are recorded in this store.", "warn")
    else:
        sources = frame_table(
            s.sources,
            {"kind": "source kind", "sources": "sources", "records_read": "records read",
             "quarantined": "quarantined"},
            digits=0, caption="Sources ingested (latest run of each source)",
        )
    when = f" Generated {generated_at:%Y-%m-%d %H:%M %Z}." if generated_at else ""
    privacy = (f"Group figures cover at least {s.team_sizes.min_group} people; smaller groups "
               f"are suppressed.{when}")
    return (
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="subtitle">Work patterns of {s.people:,} people over {s.weeks:,} weeks, '
        f"{html.escape(span)}. All times are each person's own local time. "
        f"{html.escape(privacy)}</p>\n"
        f'<div class="cards">{card_html}</div>\n{notes}{sources}'
    )


def _header_notes(store: Store, config: Config, pw: pd.DataFrame) -> str:
    """Warnings under the header cards: loud defaults, people without activity of their own."""
    parts = [note(line, "warn") for line in default_notes(default_counts(store), config)]
    quiet = inactive_people(pw)
    if quiet:
        verb = "has" if quiet == 1 else "have"
        parts.append(note(f"{quiet:,} of the people measured {verb} no activity of their own in any week "
                          "(they only received mail or invitations): their weeks count as zeros and "
                          "their focus time is not drawn.", "warn"))
    meetings = pd.to_numeric(pw["meetings"], errors="coerce").fillna(0) if "meetings" in pw else None
    no_focus = (int((meetings.groupby(pw["person_id"]).sum() == 0).sum()) - quiet
                if meetings is not None and len(pw) else 0)
    if no_focus > 0:
        parts.append(note(f"Focus time is free working time between meetings, so it needs a calendar: "
                          f"{_people(no_focus)} with no meeting in this store "
                          f"{'has' if no_focus == 1 else 'have'} no focus figures.", "note"))
    return "\n".join(parts) + ("\n" if parts else "")


def _people(n: int) -> str:
    """"1 person", "2 people" (with thousands separators)."""
    return f"{n:,} person" if n == 1 else f"{n:,} people"


def _toc(sections: Sequence[Section]) -> str:
    items = "\n".join(
        f'<li><a href="#{html.escape(s.anchor)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    return f'<nav class="toc"><h2>Contents</h2><ol>\n{items}\n</ol></nav>'


# -- built-in sections ----------------------------------------------------------------

def _suppression_list(sizes: agg.TeamSizes) -> str:
    if not sizes.suppressed:
        return ""
    items = "".join(
        f"<li><strong>{html.escape(t)}</strong> — suppressed: "
        + ("shown, it would let a smaller team be derived by subtraction" if t in sizes.complementary
           else f"fewer than {sizes.min_group} people") + "</li>"
        for t in sorted(sizes.suppressed)
    )
    return (f'<div class="privacy"><p>Not shown anywhere in this report, to protect privacy:</p>'
            f'<ul class="suppressed">{items}</ul></div>')


def _left_out(sizes: agg.TeamSizes) -> str:
    n = len(sizes.suppressed)
    if not n:
        return ""
    c = len(sizes.complementary)
    why = f" ({c} only so that a smaller one cannot be derived)" if c else ""
    return note(f"{n} team{'s' if n > 1 else ''} with fewer than {sizes.min_group} people or "
                f"protecting one left out{why} (see section 1).", "privacy") if c else \
        note(f"{n} team{'s' if n > 1 else ''} with fewer than {sizes.min_group} people "
             f"left out (see section 1).", "privacy")


def _after_hours_section(store: Store, sizes: agg.TeamSizes) -> tuple[Section, pd.DataFrame]:
    stats = agg.team_stats(store, sizes, "after_hours_collaboration_hours")
    parts = [
        ("<p>Collaboration (meetings, e-mail, chat) outside each person's working hours, "
        "weekends and public holidays, in hours per person-week: mean, median and 90th "
        "percentile over every person-week of the team.</p>")
    ]
    if stats.empty:
        parts.append(note(f"No team has at least {sizes.min_group} people.", "privacy"))
    elif all_blank(stats, ("mean", "median", "p90")):
        parts.append(note("No after-hours collaboration in any team shown: every value is 0 h.", "note"))
    else:
        parts.append(f'<div class="figure">{figure_html(charts.after_hours_by_team(stats), FIGURE_IDS["after_hours"])}</div>')
    parts.append(_suppression_list(sizes))
    return section("After-hours collaboration by team", "\n".join(parts), "after-hours-by-team"), stats


def _trend_section(store: Store, sizes: agg.TeamSizes) -> Section:
    org, dropped = agg.weekly_org(store, sizes.min_group, sizes)
    teams = agg.weekly_team(store, sizes)
    parts = [("<p>Weekly mean meeting, collaboration and focus hours per person (focus: blocks "
             "of two hours or more inside working hours free of meetings), by ISO week; each week is "
             "shown at its local Monday.</p>")]
    if org.empty:
        parts.append(note(f"Suppressed: fewer than {sizes.min_group} people in every week.", "privacy"))
    elif all_blank(org, agg.TREND_METRICS):
        parts.append(note("No meetings, collaboration or measured focus in any week: nothing to draw.", "note"))
    else:
        parts.append(f'<div class="figure">{figure_html(charts.org_trend(org), FIGURE_IDS["org_trend"])}</div>')
    if dropped:
        parts.append(note(f"{dropped} week(s) with fewer than {sizes.min_group} people left out.", "privacy"))
    if not teams.empty and not all_blank(teams, agg.TREND_METRICS):
        parts.append(
            "<p>Per team: choose the measure with the menu at the top right. The "
            f"{charts.TEAM_LINES_SHOWN} teams with the highest mean are drawn; click a team in the "
            "legend to add or remove its line.</p>"
        )
        parts.append(f'<div class="figure">{figure_html(charts.team_trend(teams), FIGURE_IDS["team_trend"], 460)}</div>')
    parts.append(_left_out(sizes))
    return section("Meeting load trend", "\n".join(parts), "meeting-load-trend")


def _heatmap_section(store: Store, config: Config, people: int, min_group: int) -> Section:
    title = "Activity by local hour and weekday"
    if too_small(people, min_group):
        return section(title, note(f"Suppressed: fewer than {min_group} people.", "privacy"), "activity-heatmap")
    cells = activity_heatmap(store, config)
    body = (
        "<p>When the organisation works, on each person's own clock (their time zone, with "
        "daylight-saving changes applied at the instant they happen). Totals over the whole "
        f"store: {int(cells.messages_sent.sum()):,} messages sent and "
        f"{cells.meeting_hours.sum():,.1f} meeting hours.</p>\n" + heatmap_figures(cells)
    )
    return section(title, body, "activity-heatmap")


def heatmap_figures(cells: pd.DataFrame) -> str:
    """The two heat-maps, each replaced by a sentence when it would be all zeros."""
    out = []
    if all_blank(cells, ("messages_sent",), tol=0.5):
        out.append(note("No messages sent (e-mail or chat): no heat-map of messages.", "note"))
    else:
        msg = charts.activity_heatmap_figure(cells, "messages_sent", "Messages sent (e-mail and chat)", "messages")
        out.append(f'<div class="figure">{figure_html(msg, FIGURE_IDS["heat_messages"], 360)}</div>')
    if all_blank(cells, ("meeting_hours",)):
        out.append(note("No meetings: no heat-map of meeting time.", "note"))
    else:
        mtg = charts.activity_heatmap_figure(cells, "meeting_hours", "Meeting time", "hours", "Oranges")
        out.append(f'<div class="figure">{figure_html(mtg, FIGURE_IDS["heat_meetings"], 360)}</div>')
    return "\n".join(out)


def _tables_section(store: Store, sizes: agg.TeamSizes, after: pd.DataFrame,
                    threshold: float) -> Section:
    over = agg.over_40h_by_team(store, sizes)
    status = agg.status_meetings_by_team(store, sizes)
    reasons = agg.quarantine_reasons(store)
    parts = [
        "<h3>Top teams by after-hours collaboration</h3>",
        frame_table(after.head(15), {"team": "team", "people": "people", "mean": "mean h/week",
                                     "median": "median h/week", "p90": "p90 h/week"},
                    empty="No team large enough to show."),
        f"<h3>Weeks over {threshold:g} hours</h3>",
        ("<p>Person-weeks whose workweek span (first to last activity per workday, summed) "
        f"exceeds {threshold:g} hours.</p>"),
        frame_table(over, {"team": "team", "people": "people", "person_weeks": "person-weeks",
                           "weeks_over_40h": "over threshold", "share_pct": "share %",
                           "mean_span": "mean span h"}, empty="No team large enough to show."),
        "<h3>Status meeting load</h3>",
        ("<p>Recurring meetings whose titles match the status rules (stand-up, status, sync, "
        "check-in, …): a proxy for “work about work”.</p>"),
        frame_table(status, {"team": "team", "people": "people", "status_hours": "status h/week",
                             "meeting_hours": "meeting h/week", "share_pct": "status share %"},
                    empty="No team large enough to show."),
        _left_out(sizes),
        "<h3>Data quality</h3>",
        (f"<p>{int(reasons['records'].sum()) if not reasons.empty else 0:,} records were quarantined "
        "at ingest (kept out of every figure), by reason:</p>"),
        frame_table(reasons, {"kind": "source kind", "reason": "reason", "records": "records",
                              "sources": "sources"}, digits=0, empty="Nothing was quarantined."),
    ]
    fallback = agg.defaults_used(store)
    if not fallback.empty:
        parts += [
            ("<p>People whose calendar field was missing and fell back to the org default "
             "(settings <code>defaults.*</code>), which makes their after-hours figures less "
             "certain:</p>"),
            frame_table(fallback, {"field": "field", "people": "people"}, digits=0),
        ]
    return section("Tables", "\n".join(p for p in parts if p), "tables")


# -- public -----------------------------------------------------------------------------

def render_report(
    store: Store,
    config: Config | None = None,
    person_weeks: Any = None,
    sections: Sequence[Section] = (),
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
) -> str:
    """The report as one HTML string (see ``build_report``)."""
    from plotly.offline import get_plotlyjs

    config = config or Config()
    pw = _prepare(store, config, person_weeks)
    min_group = min_group_size(config)
    with agg.registered(store, pw):
        sizes = agg.team_sizes(store, min_group)
        summary = agg.org_summary(store, sizes)
        if pw.empty:
            built = [section("No data", note(why_no_person_weeks(store), "warn"), "no-data")]
        else:
            after_section, after = _after_hours_section(store, sizes)
            built = [
                after_section,
                _trend_section(store, sizes),
                _heatmap_section(store, config, summary.people if sizes.shows(agg.ORG) else 0, min_group),
                _tables_section(store, sizes, after, float(config["metrics.over_hours_threshold"])),
            ]
    all_sections = unique_anchors([*built, *sections])
    page = Template(resources.files("worklife.report").joinpath("template.html").read_text("utf-8"))
    return page.substitute(
        title=html.escape(title),
        version=html.escape(getattr(worklife, "__version__", "")),
        plotly_js=get_plotlyjs(),
        header=_header(title, summary, generated_at, _header_notes(store, config, pw)),
        toc=_toc(all_sections),
        body="\n".join(s.render() for s in all_sections),
        footer=f"worklife {html.escape(getattr(worklife, '__version__', ''))} · "
               "self-contained report, no network needed",
    )


def build_report(
    store: Store,
    config: Config | None,
    out_path: str | Path,
    person_weeks: Any = None,
    sections: Sequence[Section] = (),
    title: str = DEFAULT_TITLE,
    generated_at: datetime | None = None,
) -> Path:
    """Write the self-contained HTML report to ``out_path`` and return its path.

    ``person_weeks``: the person-week table (DataFrame or Arrow; columns of
    docs/metrics.md, hours); ``None`` computes it with ``worklife.metrics.compute``.
    ``sections`` are appended after the built-in ones, in order. ``generated_at``
    (timezone-aware) is printed in the header when given. The file is written
    atomically (temporary file, then rename).
    """
    text = render_report(store, config, person_weeks, sections, title, generated_at)
    out = write_atomically(text, out_path)
    log.info("wrote %s (%d bytes)", out, len(text))
    return out


def summary_lines(store: Store, person_weeks: Any, config: Config | None = None, top: int = 3) -> list[str]:
    """A one-screen plain-text summary: people, weeks, sources, top after-hours teams.

    Teams below ``privacy.min_group_size`` are never named with a value.
    """
    config = config or Config()
    pw = _prepare(store, config, person_weeks)
    with agg.registered(store, pw):
        sizes = agg.team_sizes(store, min_group_size(config))
        s = agg.org_summary(store, sizes)
        stats = agg.team_stats(store, sizes, "after_hours_collaboration_hours")
    if pw.empty:
        return [f"People: 0 · no person-weeks: {why_no_person_weeks(store)}"]
    lines = [
        (f"People: {s.people:,} · weeks: {s.weeks:,} ({s.first_week} – {s.last_week}, "
        f"{s.first_day} – {s.last_day})"),
    ]
    if not s.sources.empty:
        kinds = ", ".join(f"{r.kind} {int(r.sources)}" for r in s.sources.itertuples())
        lines.append(f"Sources: {kinds} · quarantined records: {s.quarantined:,}")
    else:
        lines.append(f"Sources: none logged · quarantined records: {s.quarantined:,}")
    if stats.empty:
        lines.append(f"After-hours by team: no team has {sizes.min_group} or more people")
    else:
        best = ", ".join(f"{r.team} {r.mean:.1f} h" for r in stats.head(top).itertuples())
        lines.append(f"Top after-hours teams (mean per person-week): {best}")
    if sizes.suppressed:
        n, c = len(sizes.suppressed), len(sizes.complementary)
        lines.append(f"Suppressed: {n} team(s) with fewer than {sizes.min_group} people" if not c else
                     f"Suppressed: {n} team(s): {n - c} with fewer than {sizes.min_group} people, "
                     f"{c} so that those cannot be derived by subtraction")
    return lines
