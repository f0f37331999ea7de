"""Consumers of the stored metric results (docs/metrics.md "Stored results").

What a user depends on: every command that shows a metric value shows the stored one;
explain shows it and checks that its evidence sums to it (and says so when the stored
results are stale on a read-only store); a store this user cannot write is read as it
is, stale results computed in memory with one line saying so, nothing written; and a
changed setting or people-file entry recomputes exactly what it touches. Oracle: the
in-memory computation of the whole metric set (``person_metrics(prepare(...))``).
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from _metrics_store import finish, meeting, message, person
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.metrics import incremental, person_metrics, prepare
from worklife.metrics import stored as stored_mod
from worklife.metrics.explain import explain
from worklife.metrics.incremental import settings_fingerprint
from worklife.metrics.results import person_weeks, plan, refresh
from worklife.metrics.stored import open_for_reading, results_state
from worklife.report.personal import own_person_weeks
from worklife.store import connect

A, B, C = "alice@example.com", "bob@example.com", "carol@example.com"
WEEK = "2025-W11"


def _build(store):
    """Three people over three weeks: a two-person meeting, a three-person one, mail, chat."""
    person(store, A, "Europe/Paris")
    person(store, B, "America/New_York")
    person(store, C, "UTC", start=None, end=None)  # carol: default working hours
    meeting(store, "2025-03-04T09:00:00", "2025-03-04T10:00:00", A, {B: "accepted"}, key="pair")
    meeting(store, "2025-03-11T14:00:00", "2025-03-11T15:30:00", A, {B: "accepted", C: "accepted"}, key="trio")
    meeting(store, "2025-03-12T20:00:00", "2025-03-12T21:00:00", B, {A: "accepted"}, key="late-pair")
    message(store, "2025-03-05T15:00:00", C, to=[A])
    message(store, "2025-03-10T22:30:00", A, to=[B, C])
    message(store, "2025-03-13T07:10:00", B, to=[A])
    message(store, "2025-03-18T12:00:00", C, channel="chat", subject="#team")
    message(store, "2025-03-19T18:45:00", C, to=[B])
    return finish(store)


def _expect(store, config: Config) -> pd.DataFrame:
    return person_metrics(prepare(store, config))


def _rows(store, table: str, key: str) -> list[tuple]:
    return store.con.execute(f"SELECT * EXCLUDE (watermark) FROM {table} ORDER BY {key}").fetchall()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as s:
        _build(s)
    return path


# -- invalidation is exact ------------------------------------------------------------------


def test_pipeline_setting_recomputes_every_row_under_the_new_fingerprint():
    store = _build(connect(":memory:"))
    config = Config()
    refresh(store, config)
    before = person_weeks(store, config)
    changed = Config()
    changed.set("metrics.meeting_min_people", 3)  # the two-person meetings stop counting
    p = plan(store, changed)
    assert p.full and "settings" in p.reasons[0]
    refresh(store, changed)
    fp = settings_fingerprint(changed)
    assert fp != settings_fingerprint(config)
    for table in ("metric_days", "metric_weeks"):
        fps = {r[0] for r in store.con.execute(f"SELECT DISTINCT settings_fp FROM {table}").fetchall()}
        assert fps == {fp}, table
    after = person_weeks(store, changed)
    pd.testing.assert_frame_equal(after, _expect(store, changed))
    assert after.meeting_hours.sum() < before.meeting_hours.sum()  # the oracle moved, and so did we


def test_people_file_hours_change_recomputes_that_person_only(monkeypatch):
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # a tiny store would rather run in full
    store = _build(connect(":memory:"))
    config = Config()
    refresh(store, config)
    others = [r for r in _rows(store, "metric_days", "person_id, day") if r[0] != B]
    person(store, B, "America/New_York", start="07:00", end="15:00")  # bob's hours in the people file
    p = plan(store, config)
    assert [j.persons for j in p.jobs] == [[B]] and (p.jobs[0].d0, p.jobs[0].d1) == (p.first_day, p.last_day)
    done = refresh(store, config)
    n_bob = store.con.execute("SELECT count(*) FROM metric_days WHERE person_id = ?", [B]).fetchall()[0][0]
    assert done.person_days == n_bob > 0
    assert [r for r in _rows(store, "metric_days", "person_id, day") if r[0] != B] == others
    pd.testing.assert_frame_equal(person_weeks(store, config), _expect(store, config))


def test_default_hours_setting_recomputes_the_people_who_use_it(monkeypatch):
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)
    store = _build(connect(":memory:"))
    config = Config()
    refresh(store, config)
    config.set("defaults.work_start", "08:00")  # only carol has no hours of her own
    p = plan(store, config)
    assert not p.full and [j.persons for j in p.jobs] == [[C]]
    refresh(store, config)
    pd.testing.assert_frame_equal(person_weeks(store, config), _expect(store, config))


# -- the personal rows ----------------------------------------------------------------------


@pytest.mark.parametrize("period", ["week", "day"])
def test_own_person_weeks_reads_stored_rows_equal_to_computing_the_person_alone(db, period):
    config = Config()
    with connect(db) as s:
        alone = {pid: person_metrics(prepare(s, config, person_ids=[pid]), period) for pid in (A, B, C)}
        for pid in (A, B, C):
            want = alone[pid][alone[pid].person_id == pid].reset_index(drop=True)
            pd.testing.assert_frame_equal(own_person_weeks(s, config, pid, period), want)
        assert results_state(s, config).state == "fresh"  # read from (and so stored in) the results
    with connect(db, read_only=True) as ro:
        pd.testing.assert_frame_equal(own_person_weeks(ro, config, C, period),
                                      alone[C][alone[C].person_id == C].reset_index(drop=True))


def test_own_person_weeks_on_a_stale_read_only_store_computes_the_person_and_says_so(db, caplog):
    config = Config()
    with connect(db, read_only=True) as ro, caplog.at_level(logging.WARNING):
        got = own_person_weeks(ro, config, A)
        want = person_metrics(prepare(ro, config, person_ids=[A]))
    assert [r.message for r in caplog.records if "computing the metrics in memory" in r.message] != []
    pd.testing.assert_frame_equal(got, want[want.person_id == A].reset_index(drop=True))


# -- explain ------------------------------------------------------------------------------


def test_explain_shows_the_fresh_stored_value_and_its_evidence_agrees(db):
    config = Config()
    with connect(db) as s:
        refresh(s, config)
        row = person_weeks(s, config, persons=[A], weeks=[WEEK]).iloc[0]
    ex = explain(db, A, WEEK, None, config)
    assert ex.source.startswith("stored results, fresh") and ex.differences == []
    for m, v in ex.values.items():
        assert v == row[m] == ex.evidence[m], m


def test_explain_without_stored_results_shows_its_evidence_and_says_so(db):
    ex = explain(db, B, WEEK, "meeting_hours", Config())
    assert ex.source.startswith("computed now from the events below: no stored results")
    assert ex.values == ex.evidence and ex.differences == []
    assert ex.total_hours == ex.values["meeting_hours"] == 2.5  # trio 1.5 h + late-pair 1 h


def test_explain_on_a_stale_read_only_store_shows_the_stored_value_and_the_difference(db):
    config = Config()
    with connect(db) as s:
        refresh(s, config)
        old = person_weeks(s, config, persons=[A], weeks=[WEEK]).iloc[0]
        person(s, A, "Asia/Tokyo")  # alice moves: her stored results are now stale
        new = _expect(s, config).set_index(["person_id", "week"]).loc[(A, WEEK)]
    with connect(db, read_only=True) as ro:
        ex = explain(ro, A, WEEK, None, config)
    assert "stale" in ex.source and "1 people with a new or changed schedule" in ex.source
    changed = [m for m in ex.values if old[m] != new[m]]
    assert changed  # the zone moved her after-hours and focus time
    for m in ex.values:
        assert ex.values[m] == old[m] and ex.evidence[m] == new[m], m
    assert ex.differences[0].startswith(f"{len(changed)} stored value(s) differ from the events below")
    assert "worklife metrics --db" in ex.differences[0]
    assert {line.split(" = ")[0].removeprefix("stored ") for line in ex.differences[1:]} == set(changed)


def test_explain_refreshes_a_writable_store_first(db):
    config = Config()
    with connect(db) as s:
        refresh(s, config)
        person(s, A, "Asia/Tokyo")
        ex = explain(s, A, WEEK, None, config)
        assert ex.source.startswith("stored results, fresh") and ex.differences == []
        assert ex.values == ex.evidence


# -- a store this user cannot write ---------------------------------------------------------


def test_cli_explain_on_a_stale_store_the_user_cannot_write_says_where_the_number_came_from(db, monkeypatch):
    config = Config()
    with connect(db) as s:
        refresh(s, config)
        person(s, A, "Asia/Tokyo")
    monkeypatch.setattr(stored_mod, "writable", lambda db: False)
    result = CliRunner().invoke(app, ["explain", "--db", str(db), "--person", A, "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert "source: stored results, stale (1 people with a new or changed schedule" in result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note: ")]
    assert "stored value(s) differ from the events below" in notes[0]
    assert any(line.startswith("note: stored focus_hours = ") for line in notes)


def _not_writable(monkeypatch):
    monkeypatch.setattr(stored_mod, "writable", lambda db: False)


def _said(caplog) -> list[str]:
    """The in-memory notes logged (on a terminal: one line on stderr each)."""
    return [r.getMessage() for r in caplog.records if "computing the metrics in memory" in r.getMessage()]


def test_report_on_a_store_the_user_cannot_write_computes_in_memory_and_writes_nothing(
        db, tmp_path, monkeypatch, caplog):
    _not_writable(monkeypatch)
    out = tmp_path / "r.html"
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    said = _said(caplog)
    assert len(said) == 1 and "open read-only" in said[0] and str(db) in said[0]
    with connect(db, read_only=True) as ro:
        assert results_state(ro, Config()).state == "absent"  # nothing was stored


def test_metrics_on_a_store_the_user_cannot_write(db, tmp_path, monkeypatch, caplog):
    _not_writable(monkeypatch)
    runner = CliRunner()
    refused = runner.invoke(app, ["metrics", "--db", str(db), "--refresh-only"])
    assert refused.exit_code == 1 and "cannot store metric results" in refused.output
    with caplog.at_level(logging.WARNING):
        shown = runner.invoke(app, ["metrics", "--db", str(db), "--format", "csv", "--out", str(tmp_path / "m.csv")])
    assert shown.exit_code == 0, shown.output
    assert len(_said(caplog)) == 1 and "open read-only" in _said(caplog)[0]
    with connect(db, read_only=True) as ro:
        want = _expect(ro, Config())
        assert results_state(ro, Config()).state == "absent"
    got = pd.read_csv(tmp_path / "m.csv")
    assert list(got.person_id) == list(want.person_id)
    assert got.collaboration_hours.tolist() == want.collaboration_hours.tolist()


def test_open_for_reading_updates_a_writable_store_and_leaves_another_users_alone(db, monkeypatch):
    config = Config()
    with open_for_reading(db, config) as s:
        assert results_state(s, config).state == "fresh" and results_state(s, config).read_only
    with connect(db) as s:
        person(s, B, "Asia/Tokyo")
    _not_writable(monkeypatch)
    with open_for_reading(db, config) as s:
        state = results_state(s, config)
        assert state.state == "stale" and not state.usable
    monkeypatch.undo()
    with open_for_reading(db, config) as s:
        assert results_state(s, config).state == "fresh"
        pd.testing.assert_frame_equal(person_weeks(s, config), _expect(s, config))
