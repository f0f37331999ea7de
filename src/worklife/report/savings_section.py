"""The digest's savings drawn as HTML: status meetings per team, their monthly cost, the digest.

The numbers are ``worklife.digest.estimate_savings`` (records); this module only renders
them. ``savings_sections`` is the report's section provider; ``savings_section`` an HTML
``<section>`` for any page (the web app, a mail).
"""

from __future__ import annotations

import html

from worklife.config import Config
from worklife.digest.savings import TeamSavings, estimate_savings
from worklife.privacy.suppression import min_group_size, too_small
from worklife.report.sections import Section, section
from worklife.store import Store

SECTION_TITLE = "Status meetings the digest could replace"


def savings_html(store: Store, config: Config, teams: list[TeamSavings] | None = None) -> str:
    """The savings as HTML (tables and text, no heading): status meetings per team, their cost, the digest."""
    teams = estimate_savings(store, config) if teams is None else teams
    h = html.escape
    rate = float(config["metrics.hourly_cost"])
    cur = h(str(config["digest.currency"] or ""))
    patterns = ", ".join(f"<code>{h(p)}</code>" for p in config["metrics.status_title_patterns"])
    parts = [(f"<p>Recurring meetings whose titles match the status rules, in person-hours per month "
              f"(30.4 days) of each team's members, at {rate:g} {cur} per person-hour "
              f"(<code>metrics.hourly_cost</code>, <code>digest.currency</code>).</p>"),
             (f"<p class='inputs'>Inputs: meetings detected as status-like = recurring, qualifying "
              f"(not cancelled, not free, not all-day, at most {float(config['metrics.meeting_max_hours']):g} h, "
              f"at least {int(config['metrics.meeting_min_people'])} attendees) and titled like one of "
              f"{patterns}; attendees = team members who did not decline; minutes = each occurrence's "
              f"scheduled length.</p>"),
             ("<p class='unknowns'>What this cannot know: whether a meeting does more than report status "
              "(decisions, unblocking, the team seeing each other), time spent preparing for it, status "
              "meetings titled otherwise or held outside the calendars ingested, people outside the store, "
              "and whether the digest is read. It is an upper bound on the time a digest could give back, "
              "not a measured saving.</p>")]
    if not teams:
        parts.append("<p>No recurring status-like meetings found.</p>")
        return "".join(parts)
    smallest = min_group_size(config)
    hidden = [t.team for t in teams if too_small(t.team_size, smallest)]
    if hidden:
        parts.append(f"<p>Not shown: {len(hidden)} team(s) with fewer than {smallest} people "
                     f"(<code>privacy.min_group_size</code>).</p>")
    for t in (t for t in teams if not too_small(t.team_size, smallest)):
        rows = "".join(
            f"<tr><td>{h(s.label)}</td><td>{s.occurrences}</td><td>{s.attendees}</td>"
            f"<td>{s.person_hours_per_month:.1f}</td><td>{s.cost_per_month:,.0f} {cur}</td></tr>" for s in t.series)
        parts.append(
            f"<h3>{h(t.team)}</h3><table><thead><tr><th>status meeting</th><th>occurrences</th>"
            f"<th>attendees</th><th>person-hours / month</th><th>cost / month ({cur})</th></tr></thead>"
            f"<tbody>{rows}</tbody><tfoot><tr><th>total</th><td></td><td></td>"
            f"<th>{t.person_hours_per_month:.1f}</th><th>{t.cost_per_month:,.0f} {cur}</th></tr></tfoot></table>"
            f"<p>Instead: the weekly async digest, <code>worklife digest --team {h(t.team)} --week YYYY-Www "
            f"--send</code>, which would list about {t.outcomes_per_week:g} outcomes a week for this team "
            f"(shipped items and commits), delivered in each reader's working hours. "
            f"Observed over {t.span_days:g} days of calendar data.</p>")
    return "".join(parts)


def savings_section(store: Store, config: Config) -> str:
    """An HTML ``<section>`` with its heading, for any page: see ``savings_html``."""
    return (f"<section class='digest-savings'><h2>{SECTION_TITLE}</h2>"
            f"{savings_html(store, config)}</section>")


def savings_sections(store: Store, config: Config, person_weeks: object = None) -> list[Section] | None:
    """The report's section provider: the savings; None when the store holds no meetings at all."""
    if store.scalar("SELECT count(*) FROM meetings") == 0:
        return None
    return [section(SECTION_TITLE, savings_html(store, config), anchor="digest-savings")]
