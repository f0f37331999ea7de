"""The whole pipeline as a user runs it: synthetic exports on disk → real adapters → metrics → report.

The synthetic organisation knows what it planted (ground_truth.parquet, computed
independently with zoneinfo); going through the real file formats and adapters must
give back every metric exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.demo import run_demo

ONE_SECOND_IN_HOURS = 1 / 3600


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, people=48, weeks=3, seed=7)


def test_demo_writes_store_metrics_and_report(demo):
    assert demo.db_path.exists() and demo.metrics_path.exists()
    html = demo.report_path.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "plotly" in html.lower()
    assert any(line.startswith("People: 48") for line in demo.summary)


def test_demo_report_includes_policy_validation_and_savings_sections(demo):
    html = demo.report_path.read_text(encoding="utf-8")
    titles = re.findall(r"<h2[^>]*>([^<]+)", html)
    for expected in ("After-hours collaboration by team", "Activity by local hour and weekday"):
        assert expected in titles
    for expected in ("Boundary pressure and right to disconnect", "Validation",
                     "Status meetings the digest could replace"):
        assert expected in titles, titles


def test_every_metric_round_trips_through_real_files_exactly(demo):
    truth = pd.read_parquet(demo.raw_dir / "ground_truth.parquet")
    measured = pd.read_csv(demo.metrics_path)
    merged = truth.merge(measured, on=["person_id", "week"], how="outer", suffixes=("_truth", "_measured"),
                         indicator=True)
    assert (merged["_merge"] == "both").all(), "person-weeks differ between ground truth and metrics"
    metrics = [c for c in truth.columns if c not in ("person_id", "week", "week_start")]
    assert len(metrics) >= 20
    for column in metrics:
        expected = merged[f"{column}_truth"].astype(float)
        got = merged[f"{column}_measured"].astype(float)
        wrong = ~np.isclose(expected, got, atol=ONE_SECOND_IN_HOURS / 2, rtol=0)
        assert not wrong.any(), f"{column}: {wrong.sum()} person-weeks differ, e.g.\n{merged[wrong].head(3)}"


def test_planted_weekend_worker_is_active_every_weekend(demo):
    import json

    planted = json.loads((demo.raw_dir / "planted.json").read_text())
    person = planted["weekend_worker"]["person"]
    measured = pd.read_csv(demo.metrics_path)
    mine = measured[measured["person_id"] == person]
    assert len(mine) == 3 and (mine["weekend_days_active"] >= 1).all()


def test_night_pinging_managers_reports_have_after_hours_email_or_chat(demo):
    import json

    planted = json.loads((demo.raw_dir / "planted.json").read_text())["night_pinger"]
    measured = pd.read_csv(demo.metrics_path)
    reports = measured[measured["person_id"].isin(planted["reports"])]
    weeks = sorted(measured["week"].unique())
    planted_weeks = [weeks[i] for i in planted["week_indexes"] if i < len(weeks)]
    in_planted = reports[reports["week"].isin(planted_weeks)]
    assert len(in_planted) > 0
    received_after_hours = in_planted["after_hours_email_hours"] + in_planted["after_hours_chat_hours"]
    assert (received_after_hours > 0).all()


def test_demo_cli_refuses_too_small_an_organisation(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--people", "5", "--out", str(tmp_path)])
    assert result.exit_code == 2
