"""Kept box SQL on real exports (``worklife.metrics.sqlcache``): the Slack export (real
zones) and an Enron Maildir, each ingested with the CLI as a newcomer would, its latest
activity taken out and written back in two parts, with a refresh after each: the second
plays the SQL the first kept, and the stored rows equal one full run, row for row.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pyarrow as pa
import pytest
from _metrics_store import assert_equals_full_run

from worklife.cli import main
from worklife.config import Config
from worklife.metrics import incremental
from worklife.metrics.replay import StepRecorder
from worklife.metrics.results import plan, refresh
from worklife.store import Store, connect

DATA = Path(os.environ.get("WORKLIFE_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data (real public data) is absent")

TIME_COL = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
CHILD = {"meeting_attendees": ("meetings", "meeting_key"), "message_recipients": ("messages", "message_key")}


def _ingest(db: Path, source: Path) -> Path:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["ingest", str(source), "--db", str(db)])
        except SystemExit as done:
            code = int(done.code or 0)
    assert code == 0, err.getvalue()
    return db


def _take_out(store: Store, lo, hi) -> dict[str, pa.Table]:
    """Delete the activity in [lo, hi) (parents by time, children with them); return it."""
    out: dict[str, pa.Table] = {}
    for t, (parent, key) in CHILD.items():
        where = f"{key} IN (SELECT {key} FROM {parent} WHERE {TIME_COL[parent]} >= ? AND {TIME_COL[parent]} < ?)"
        out[t] = store.arrow(f"SELECT * FROM {t} WHERE {where}", [lo, hi])
        store.run(f"DELETE FROM {t} WHERE {where}", [lo, hi])
    for t, col in TIME_COL.items():
        out[t] = store.arrow(f"SELECT * FROM {t} WHERE {col} >= ? AND {col} < ?", [lo, hi])
        store.run(f"DELETE FROM {t} WHERE {col} >= ? AND {col} < ?", [lo, hi])
    return out


def _put_back(store: Store, rows: dict[str, pa.Table]) -> None:
    for t in ("meetings", "meeting_attendees", "messages", "message_recipients", "outcomes"):
        if rows[t].num_rows:
            store.upsert(t, rows[t])


@pytest.mark.parametrize("source", ["slack/olake-export", "enron/skilling-j"])
def test_played_updates_equal_a_full_run_on_real_exports(source, tmp_path, monkeypatch):
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # a small export: keep the updates incremental
    monkeypatch.setenv("WORKLIFE_CACHE_DIR", str(tmp_path / "cache"))
    seen: list[str] = []
    play, finish = StepRecorder.play, StepRecorder.finish
    monkeypatch.setattr(StepRecorder, "play", lambda self, rec: seen.append("played") or play(self, rec))
    monkeypatch.setattr(StepRecorder, "finish", lambda self, expr: seen.append("compiled") or finish(self, expr))
    db = _ingest(tmp_path / "w.duckdb", DATA / source)
    config = Config()
    with connect(db) as store:
        # the latest activity in two parts: the 85th-95th and the 95th-100th percentile of message times
        q = store.rows("SELECT quantile_disc(sent_utc, 0.85), quantile_disc(sent_utc, 0.95), "
                       "max(sent_utc) + INTERVAL 1 SECOND FROM messages")[0]
        parts = [_take_out(store, q[0], q[1]), _take_out(store, q[1], q[2])]
        assert all(p["messages"].num_rows for p in parts)
        refresh(store, config)
        for part in parts:
            _put_back(store, part)
            p = plan(store, config)
            assert p.jobs and not p.full, p.reasons
            seen.clear()
            refresh(store, config)
            assert plan(store, config).fresh
        assert "played" in seen and "compiled" not in seen  # the last update ran kept SQL only
        assert_equals_full_run(store, config)
