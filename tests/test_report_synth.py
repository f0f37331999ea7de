"""The report on the synthetic organisation, checked against its independent ground truth.

``worklife.synth.person_week_metrics`` computes the docs/metrics.md values in plain
Python + zoneinfo; the heat-map computes local time in SQL through ``tz_offsets``. Both
must account for exactly the same meeting time and messages.
"""

from __future__ import annotations

import re

import pytest

from worklife.config import Config
from worklife.report import FIGURE_IDS, activity_heatmap, render_report, summary_lines
from worklife.store import connect

synth = pytest.importorskip("worklife.synth")


@pytest.fixture(scope="module")
def org():
    o = synth.generate(people=48, weeks=2, seed=3)
    store = connect()
    synth.load_into_store(o, store)
    yield store, synth.person_week_metrics(o)
    store.close()


def test_heatmap_meeting_hours_equal_the_ground_truth(org):
    store, truth = org
    cells = activity_heatmap(store, Config())
    assert cells.meeting_hours.sum() == pytest.approx(truth.meeting_hours.sum(), abs=1e-6)


def test_heatmap_messages_equal_the_ground_truth(org):
    store, truth = org
    cells = activity_heatmap(store, Config())
    assert cells.messages_sent.sum() == truth.emails_sent.sum() + truth.chats_sent.sum()


def test_report_of_the_synthetic_org_shows_every_team_above_the_threshold(org):
    store, truth = org
    config = Config({"privacy.min_group_size": 5})
    page = render_report(store, config, truth)
    body = re.sub(r'<script id="plotly-js">.*?</script>', "", page, count=1, flags=re.DOTALL)
    for fig in FIGURE_IDS.values():
        assert f'<div id="{fig}"' in body
    teams = store.con.execute(
        "SELECT team, count(*) FROM people WHERE is_internal GROUP BY team").fetchall()
    for team, size in teams:
        if size >= 5:
            assert f"<td>{team}</td>" in body
        else:
            assert body.count(team) == 1 and f"<strong>{team}</strong> — suppressed" in body
    assert summary_lines(store, truth, config)[0].startswith("People: 48 · weeks: 2 ")


def test_report_computes_person_weeks_with_the_metrics_engine(org, tmp_path):
    """With worklife.metrics installed, build_report needs nothing but the store."""
    metrics = pytest.importorskip("worklife.metrics")
    if not hasattr(metrics, "compute"):
        pytest.skip("worklife.metrics.compute has not landed")
    from worklife.report import build_report, collect_sections, load_person_weeks
    from worklife.report.providers import standard_providers

    store, truth = org
    config = Config({"privacy.min_group_size": 5})
    pw = load_person_weeks(store, config)
    assert len(pw) == len(truth)
    assert pw.meeting_hours.sum() == pytest.approx(truth.meeting_hours.sum(), abs=1e-6)
    extra = collect_sections(store, config, pw, standard_providers())
    out = build_report(store, config, tmp_path / "r.html", sections=extra)
    page = out.read_text(encoding="utf-8")
    assert '<section id="after-hours-by-team">' in page
    if any(s.anchor == "validation" for s in extra):
        assert '<section id="validation">' in page and "@example.com" not in page.split("</head>")[1]
