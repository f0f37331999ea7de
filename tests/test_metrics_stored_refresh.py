"""One owner for "bring a store file's results up to date if this user can write it":
``worklife.metrics.stored.refresh_if_writable``, used by ``worklife metrics``, every
command that shows metric values (``open_for_reading``) and the library's path calls.

What a user depends on: a writable store is refreshed under the run lock and then read;
a store they cannot write is left as it is; readers of fresh results never wait for the
lock; while another worklife run writes the store, every command (metrics, report,
explain) exits 75 ("try again later"), not 1 (docs/operations.md).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _metrics_store import person, two_person_store

from worklife.cli import main
from worklife.config import Config
from worklife.metrics import compute, person_metrics, person_weeks, prepare
from worklife.metrics import stored as stored_mod
from worklife.metrics.results import plan
from worklife.metrics.stored import refresh_if_writable, results_state
from worklife.runlock import EXIT_LOCKED, LockHeld, store_lock
from worklife.store import connect

A, B = "alice@example.com", "bob@example.com"
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    two_person_store(path, message_at="2025-03-05T22:00:00Z")
    return path


def _state(db) -> str:
    with connect(db, read_only=True) as s:
        return results_state(s, Config()).state


def test_a_writable_store_is_refreshed_then_found_fresh_without_taking_the_lock(db):
    done = refresh_if_writable(db, Config())
    assert done.full and done.person_days > 0 and done.reasons == ["no stored results"]
    assert _state(db) == "fresh"
    with store_lock(db):  # another run holds the lock: fresh results are still read
        again = refresh_if_writable(db, Config())
        assert again.fresh and again.reasons == ["up to date"]
        with pytest.raises(LockHeld):  # --full always recomputes, under the lock
            refresh_if_writable(db, Config(), full=True)
        with connect(db) as s:
            person(s, A, "Asia/Tokyo")  # alice moved: her results are stale
        with pytest.raises(LockHeld):
            refresh_if_writable(db, Config())
    done = refresh_if_writable(db, Config())
    assert "1 people with a new or changed schedule" in done.reasons and _state(db) == "fresh"


def test_fresh_after_a_change_no_metric_reads_is_recorded_so_the_next_check_is_quick(db):
    refresh_if_writable(db, Config())
    with connect(db) as s:
        person(s, B, "America/New_York", team="Team B")  # a team is not a metric input
        p = plan(s, Config())
        assert p.fresh and not p.quick
    assert refresh_if_writable(db, Config()).fresh
    with connect(db, read_only=True) as s:
        assert plan(s, Config()).quick


def test_a_store_the_user_cannot_write_is_left_as_it_is(db, monkeypatch):
    monkeypatch.setattr(stored_mod, "writable", lambda path: False)
    assert refresh_if_writable(db, Config()) is None
    assert refresh_if_writable(db, Config(), full=True) is None
    assert _state(db) == "absent"


_HOLDER = """
import sys
from worklife.runlock import store_lock
from worklife.store import connect
with store_lock(sys.argv[1]), connect(sys.argv[1]) as store:
    print("holding", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def another_run(db):
    """Another process holding the run lock and the store open for writing (as ingest does)."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        proc.communicate("\n", timeout=60)


@pytest.mark.parametrize("args", [["metrics", "--refresh-only"], ["metrics", "--format", "csv"],
                                  ["report", "--out", "{tmp}/r.html"],
                                  ["explain", "--person", A, "--week", "2025-W10"]],
                         ids=["refresh-only", "metrics", "report", "explain"])
def test_every_command_exits_75_while_another_run_writes_the_store(db, another_run, args, capsys, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args] + ["--db", str(db)]
    with pytest.raises(SystemExit) as code:
        main(argv)
    err = capsys.readouterr().err
    assert code.value.code == EXIT_LOCKED, err
    assert "another worklife run holds the lock" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# -- the library's path calls: compute(path) and person_weeks(path) --------------------------


def _oracle(db) -> pd.DataFrame:
    with connect(db, read_only=True) as s:
        return person_metrics(prepare(s, Config()))


def _in_memory_notes(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "computing the metrics in memory" in r.getMessage()]


@pytest.mark.parametrize("read", [compute, person_weeks], ids=["compute", "person_weeks"])
def test_a_writable_path_is_refreshed_under_the_run_lock_then_read(db, read, caplog):
    with store_lock(db), pytest.raises(LockHeld):  # stale and another run holds the lock
        read(db, Config())
    assert _state(db) == "absent"
    with caplog.at_level(logging.WARNING):
        got = read(db, Config())
        assert _state(db) == "fresh"  # stored, so the next call reads them
        with store_lock(db):  # fresh: read without waiting for the lock
            again = read(str(db), Config())
    assert _in_memory_notes(caplog) == []
    pd.testing.assert_frame_equal(got, _oracle(db))
    pd.testing.assert_frame_equal(again, got)


@pytest.mark.parametrize("read", [compute, person_weeks], ids=["compute", "person_weeks"])
def test_a_path_the_user_cannot_write_is_read_as_it_is(db, read, monkeypatch, caplog):
    monkeypatch.setattr(stored_mod, "writable", lambda path: False)
    with store_lock(db), caplog.at_level(logging.WARNING):  # no lock is needed either
        got = read(db, Config())
    said = _in_memory_notes(caplog)
    assert len(said) == 1 and str(db) in said[0] and "open read-only" in said[0]
    assert _state(db) == "absent"  # nothing written
    pd.testing.assert_frame_equal(got, _oracle(db))


def test_person_weeks_of_a_path_without_update_writes_nothing(db, caplog):
    with caplog.at_level(logging.WARNING):
        got = person_weeks(db, Config(), update=False)
    assert len(_in_memory_notes(caplog)) == 1 and _state(db) == "absent"
    pd.testing.assert_frame_equal(got, _oracle(db))


def test_compute_on_an_open_store_takes_no_lock(db):
    with store_lock(db), connect(db) as s:  # the caller owns the store (and may hold the lock)
        got = compute(s, Config())
        assert results_state(s, Config()).state == "fresh"  # updated in place
    pd.testing.assert_frame_equal(got, _oracle(db))
