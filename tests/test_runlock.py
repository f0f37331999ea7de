"""The run lock beside the store, and `worklife metrics` storing results (docs/operations.md)."""

from __future__ import annotations

import pytest
from _metrics_store import two_person_store
from typer.testing import CliRunner

from worklife.cli import app, main
from worklife.runlock import EXIT_LOCKED, LockHeld, lock_path, store_lock
from worklife.store import connect

A, B = "alice@example.com", "bob@example.com"


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "store.duckdb"
    two_person_store(path)
    return path


def test_second_holder_is_refused_until_the_first_releases(db):
    with store_lock(db) as held:
        assert held == lock_path(db) and held.exists()
        with pytest.raises(LockHeld, match="another worklife run holds the lock") as err:
            with store_lock(db):
                pass
        assert err.value.exit_code == EXIT_LOCKED == 75
        assert "pid" in str(err.value)
    with store_lock(db):  # released when the block ended
        pass


def test_metrics_refused_with_exit_75_while_another_run_writes(db, capsys):
    with store_lock(db), pytest.raises(SystemExit) as code:
        main(["metrics", "--db", str(db), "--refresh-only"])
    assert code.value.code == 75
    err = capsys.readouterr().err
    assert "another worklife run holds the lock" in err and "Traceback" not in err


def test_metrics_stores_results_then_finds_them_up_to_date(db):
    runner = CliRunner()
    first = runner.invoke(app, ["metrics", "--db", str(db), "--refresh-only"])
    assert first.exit_code == 0, first.output
    assert "full run" in first.output and "no stored results" in first.output
    second = runner.invoke(app, ["metrics", "--db", str(db), "--refresh-only"])
    assert second.exit_code == 0 and "up to date" in second.output
    shown = runner.invoke(app, ["metrics", "--db", str(db), "--format", "csv"])
    assert shown.exit_code == 0 and A in shown.output and B in shown.output
    full = runner.invoke(app, ["metrics", "--db", str(db), "--full", "--format", "csv"])
    assert full.exit_code == 0 and "--full" in full.output
    with connect(db, read_only=True) as store:
        assert store.count("metric_weeks") > 0


def test_metrics_on_a_missing_store_is_one_line_exit_1(tmp_path):
    result = CliRunner().invoke(app, ["metrics", "--db", str(tmp_path / "none.duckdb"), "--refresh-only"])
    assert result.exit_code == 1 and "no such store" in result.output
    assert not (tmp_path / "none.duckdb.lock").exists()


def test_ingest_refused_with_exit_75_while_another_run_writes(db, tmp_path, capsys):
    source = tmp_path / "mail"
    source.mkdir()
    with store_lock(db), pytest.raises(SystemExit) as code:
        main(["ingest", "--db", str(db), str(source)])
    assert code.value.code == 75
    err = capsys.readouterr().err
    assert "another worklife run holds the lock" in err and "Traceback" not in err
