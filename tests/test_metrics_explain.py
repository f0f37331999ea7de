"""`explain`: the events behind one number; its pieces sum to the metric."""

from __future__ import annotations

import pytest
from _metrics_store import finish, meeting, message, person
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.metrics import compute
from worklife.metrics.explain import INTERVAL_METRICS, explain
from worklife.store import connect

P = "user99@example.com"
ME = "user01@example.com"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("explain") / "w.duckdb"
    s = connect(path)
    person(s, P)
    person(s, ME, tz="America/New_York")
    meeting(s, "2025-03-10 12:00", "2025-03-10 13:00", ME, {P: "accepted"}, title="Weekly status", recurring=True)
    meeting(s, "2025-03-10 12:30", "2025-03-10 14:00", P, {ME: "accepted"})
    meeting(s, "2025-03-11 22:00", "2025-03-12 06:00", P, {ME: "tentative"})  # crosses local midnight
    meeting(s, "2025-03-12 15:00", "2025-03-12 16:00", P, {ME: "declined"}, key="declined-one")
    meeting(s, "2025-03-12 17:00", "2025-03-12 18:00", P, {ME: "accepted"}, status="cancelled", key="cancelled-one")
    meeting(s, "2025-03-13 17:00", "2025-03-14 02:00", P, {ME: "accepted"}, key="nine-hours")
    message(s, "2025-03-10 23:00", ME, to=[P])
    message(s, "2025-03-10 23:01", P, to=[ME])
    message(s, "2025-03-10 23:02", P, to=[ME], auto=True, key="auto-one")
    message(s, "2025-03-10 23:03", P, to=["user98@example.com"], bcc=[ME], key="bcc-one")
    message(s, "2025-03-11 01:00", ME, channel="chat", subject="#team")
    finish(s)
    s.close()
    return path


@pytest.fixture(scope="module")
def full(db):
    return explain(db, ME, "2025-W11", None, Config())


def test_pieces_sum_to_every_interval_metric(full):
    for metric, (kind, col) in INTERVAL_METRICS.items():
        total = full.pieces.loc[full.pieces.kind == kind, col].sum() / 3600
        assert total == pytest.approx(full.values[metric], abs=1e-9), metric


def test_single_metric_total_matches_compute(db):
    ex = explain(db, ME, "2025-W11", "after_hours_meeting_hours", Config())
    row = compute(db, Config(), weeks=["2025-W11"]).set_index("person_id").loc[ME]
    assert ex.total_hours == pytest.approx(row.after_hours_meeting_hours, abs=1e-9)
    assert ex.values["after_hours_meeting_hours"] == row.after_hours_meeting_hours


def test_every_exclusion_has_its_reason(full):
    status = dict(zip(full.meetings.meeting_key, full.meetings.status))
    assert status["declined-one"] == "declined"
    assert status["cancelled-one"] == "cancelled"
    assert status["nine-hours"] == "too long"
    overlap = full.meetings[full.meetings.overlap]
    assert len(overlap) == 2  # the two meetings of Monday overlap: counted once
    msg = dict(zip(full.messages.message_key, full.messages.status))
    assert msg["auto-one"] == "auto message" and msg["bcc-one"] == "bcc"


def test_zone_and_working_hours_are_shown(full):
    assert full.schedule["tz"] == "America/New_York"
    assert (full.schedule["work_start"], full.schedule["work_end"]) == ("09:00", "17:00")


def test_per_day_rows_sum_to_the_week(full):
    assert full.days["span_s"].sum() / 3600 == full.values["workweek_span"]


def test_cli_explain_prints_the_total(db):
    result = CliRunner().invoke(app, ["explain", "--db", str(db), "--person", ME, "--week", "2025-W11",
                                      "--metric", "meeting_hours"])
    assert result.exit_code == 0, result.output
    assert "total meeting_hours" in result.output and "America/New_York" in result.output


def test_cli_explain_unknown_metric_fails_cleanly(db):
    from worklife.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["explain", "--db", str(db), "--person", ME, "--week", "2025-W11", "--metric", "nope"])
    assert exc.value.code == 1
