"""The report's boundary-pressure and policy section: HTML with plotly figures.

Policy returns data (``worklife.policy.check``, ``boundary_pressure``); this module,
in ``worklife.report``, draws it. ``policy_sections`` is the report's section provider.

Two charts: the off-hours contact matrix by team (sender team x recipient team, the
share of contact landing outside the recipient's working time) and rest-period
breaches per ISO week by rule. Every aggregate respects ``privacy.min_group_size``:
teams smaller than it are left out of the matrix (and counted as suppressed), and the
breach chart and rule table are shown only when the organisation has at least that
many internal people.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict

import plotly.graph_objects as go

from worklife.config import Config
from worklife.policy import check
from worklife.policy.boundary import boundary_pressure
from worklife.policy.engine import DISCLAIMER
from worklife.policy.findings import Finding
from worklife.privacy.suppression import min_group_size, too_small
from worklife.report.sections import Section, section
from worklife.store import Store

log = logging.getLogger(__name__)

REST_RULES = ("wt.daily_rest", "wt.weekly_rest", "rtd.min_disconnect", "wt.avg_weekly_hours",
              "wt.max_weekly_hours", "wt.max_daily_hours")


def _matrix_figure(team_df) -> go.Figure | None:
    shown = team_df[~team_df["suppressed"]]
    if shown.empty:
        return None
    senders = sorted(shown["sender_team"].unique())
    recipients = sorted(shown["recipient_team"].unique())
    z, text = [], []
    for s in senders:
        row, trow = [], []
        for r in recipients:
            cell = shown[(shown["sender_team"] == s) & (shown["recipient_team"] == r)]
            if cell.empty:
                row.append(None)
                trow.append("")
            else:
                c = cell.iloc[0]
                row.append(float(c["off_hours_share"]))
                trow.append(f"{int(c['off_hours_contacts'])} of {int(c['contacts'])}")
        z.append(row)
        text.append(trow)
    fig = go.Figure(go.Heatmap(z=z, x=recipients, y=senders, text=text, texttemplate="%{text}",
                               colorscale="Reds", zmin=0, zmax=1, colorbar={"title": "off-hours share"},
                               hovertemplate="from %{y} to %{x}: %{z:.0%} off-hours (%{text})<extra></extra>"))
    fig.update_layout(title="Off-hours contact by team (recipient's hours)", xaxis_title="recipient team",
                      yaxis_title="sender team", height=120 + 40 * len(senders), margin={"l": 120})
    return fig


def _breach_figure(findings: list[Finding]) -> go.Figure | None:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings:
        if f.rule in REST_RULES and f.week:
            per[f.rule][f.week] += f.count
    if not per:
        return None
    weeks = sorted({w for d in per.values() for w in d})
    fig = go.Figure()
    for rule in REST_RULES:
        if rule in per:
            fig.add_bar(name=rule, x=weeks, y=[per[rule].get(w, 0) for w in weeks])
    fig.update_layout(barmode="stack", title="Working-time breaches per ISO week", xaxis_title="ISO week",
                      yaxis_title="breaches", height=360)
    return fig


TITLE = "Boundary pressure and right to disconnect"


def report_section(store: Store, config: Config, findings: list[Finding], *,
                   include_plotlyjs: bool | str = True) -> str:
    """Self-contained HTML (plotly.js inlined once unless ``include_plotlyjs`` says otherwise)."""
    body = section_body(store, config, findings, include_plotlyjs=include_plotlyjs)
    return f'<section class="worklife-policy">\n<h2>{TITLE}</h2>\n{body}\n</section>'


def section_body(store: Store, config: Config, findings: list[Finding], *,
                 include_plotlyjs: bool | str = False) -> str:
    """The section's content without its ``<section>``/heading (for ``worklife.report``)."""
    mgs = min_group_size(config)
    org_people = store.scalar("SELECT count(*) FROM people WHERE is_internal")
    parts = [f"<p>Policy checked: {html.escape(str(config['policy.report_policy']))}. Contact is judged in "
             "the recipient's hours, zone and holidays.</p>"]
    js = include_plotlyjs
    bp = boundary_pressure(store, config)
    team = bp["by_team"]
    fig = _matrix_figure(team) if not team.empty else None
    n_supp = int(team["suppressed"].sum()) if not team.empty else 0
    if fig is not None:
        parts.append(fig.to_html(full_html=False, include_plotlyjs=js))
        js = False
    else:
        parts.append("<p>No team-level contact to show.</p>")
    if n_supp:
        parts.append(f"<p class='note'>{n_supp} team pair(s) involving a team of fewer than {mgs} people "
                     "are suppressed.</p>")
    if too_small(org_people, mgs):
        parts.append(f"<p class='note'>The organisation has fewer than {mgs} people: finding aggregates "
                     "are suppressed.</p>")
    else:
        fig = _breach_figure(findings)
        if fig is not None:
            parts.append(fig.to_html(full_html=False, include_plotlyjs=js))
            js = False
        rows: dict[tuple[str, str, str], set] = defaultdict(set)
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for f in findings:
            key = (f.rule, f.jurisdiction, f.severity)
            rows[key].add(f.person_id)
            counts[key] += f.count
        if rows:
            parts.append("<table class='findings'><thead><tr><th>rule</th><th>jurisdiction</th><th>severity</th>"
                         "<th>people</th><th>occurrences</th></tr></thead><tbody>")
            for (rule, jur, sev), people in sorted(rows.items()):
                n = len(people - {None})
                shown = str(n) if n == 0 or not too_small(n, mgs) or rule.startswith(("rtd.no_policy", "scope.")) else f"&lt;{mgs}"
                parts.append(f"<tr><td>{html.escape(rule)}</td><td>{html.escape(jur)}</td><td>{sev}</td>"
                             f"<td>{shown}</td><td>{counts[(rule, jur, sev)]}</td></tr>")
            parts.append("</tbody></table>")
        else:
            parts.append("<p>No findings.</p>")
    parts.append(f"<p class='disclaimer'>{html.escape(DISCLAIMER)}</p>")
    return "\n".join(parts)


def policy_sections(store: Store, config: Config, person_weeks: object = None) -> list[Section]:
    """The report's section provider: findings checked under ``policy.report_policy``, drawn."""
    findings = check(store, config, config["policy.report_policy"])
    return [section(TITLE, section_body(store, config, findings, include_plotlyjs=False), anchor="policy")]
