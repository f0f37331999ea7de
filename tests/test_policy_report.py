"""The report section: self-contained HTML, charts, and small groups suppressed."""

from __future__ import annotations

from worklife.policy import check
from worklife.report.policy_section import policy_sections, report_section
from test_policy_support import Org, at

LIS = "Europe/Lisbon"


def build(store, people_per_team: int) -> None:
    org = Org(store)
    a = [org.person(i, team="Team A") for i in range(1, people_per_team + 1)]
    b = [org.person(100 + i, team="Team B") for i in range(1, people_per_team + 1)]
    for x, y in zip(a, b):
        org.message(x, y, at("2025-03-04 22:00", LIS))
        org.message(y, x, at("2025-03-04 11:00", LIS))
    org.workday(a[0], "2025-03-04", LIS, "09:00", "23:30")
    org.workday(a[0], "2025-03-05", LIS, "07:00", "17:00")
    org.done()


def test_section_has_matrix_and_breach_chart_when_groups_are_large_enough(store, config):
    build(store, 10)
    html = report_section(store, config, check(store, config, "PT"))
    assert html.startswith('<section class="worklife-policy">') and "Off-hours contact by team" in html
    assert "Working-time breaches per ISO week" in html and "wt.daily_rest" in html
    assert "Plotly.newPlot" in html and "<script src=" not in html  # self-contained: plotly.js inlined
    assert "not legal advice" in html


def test_small_teams_and_small_orgs_are_suppressed(store, config):
    build(store, 2)
    html = report_section(store, config, check(store, config, "PT"), include_plotlyjs=False)
    assert "Off-hours contact by team" not in html and "suppressed" in html
    assert "user01@example.com" not in html


def test_the_report_collects_the_policy_section(store, config):
    from worklife.report.sections import collect_sections
    build(store, 10)
    [sec] = collect_sections(store, config, None, providers=[policy_sections])
    assert sec.anchor == "policy" and "Off-hours contact by team" in sec.html and "<script src=" not in sec.html
