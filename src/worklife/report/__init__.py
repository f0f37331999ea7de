"""The self-contained HTML report (``worklife report``) and the terminal summary.

    from worklife.report import build_report, section
    build_report(store, config, "out/report.html", person_weeks=df,
                 sections=[section("Policy findings", html)])

Built-in sections: after-hours collaboration by team, meeting-load trend, activity
heat-map by local hour × weekday, tables (after-hours, weeks over 40 h, status
meetings, data quality). Extra sections come from an explicit list of providers
(``worklife.report.providers.standard_providers()``: policy, validation, savings), each
drawing another stage's records.
"""

from __future__ import annotations

from worklife.report.build import (
    DEFAULT_TITLE,
    FIGURE_IDS,
    build_report,
    load_person_weeks,
    render_report,
    summary_lines,
)
from worklife.report.heatmap import activity_heatmap
from worklife.report.sections import (
    Provider,
    Section,
    collect_sections,
    figure_html,
    frame_table,
    html_table,
    note,
    section,
    slug,
)

__all__ = [
    "DEFAULT_TITLE",
    "FIGURE_IDS",
    "Provider",
    "Section",
    "activity_heatmap",
    "build_report",
    "collect_sections",
    "figure_html",
    "frame_table",
    "html_table",
    "load_person_weeks",
    "note",
    "render_report",
    "section",
    "slug",
    "summary_lines",
]
