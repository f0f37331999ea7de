"""A box's compiled SQL kept in the store (``worklife.metrics.sqlcache``).

What a user depends on: an update that plays the SQL kept by an earlier update gives
exactly the rows a full run gives (oracle: one full run, row for row); a changed setting,
code or schema never plays SQL compiled for another; kept SQL that no longer runs is
dropped and the box compiled; a read-only store keeps nothing.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from _metrics_store import stored_rows

from worklife.config import Config
from worklife.metrics import incremental, sqlcache
from worklife.metrics.localtime import LocalCalendar, day_date
from worklife.metrics.replay import Recording, StepRecorder
from worklife.metrics.results import plan, refresh
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

synth = pytest.importorskip("worklife.synth")

START = date(2025, 3, 3)  # across the US and EU spring DST changes
TIME_COL = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
CHILD = {"meeting_attendees": ("meetings", "meeting_key"), "message_recipients": ("messages", "message_key")}


@pytest.fixture(autouse=True)
def never_full(monkeypatch):
    """A small store's added week is most of it (a full run): keep it incremental."""
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)


@pytest.fixture(scope="module")
def weeks():
    """The synthetic organisation's tables cut into weeks 1-3, week 4 and week 5 (by the
    parent's time; people and aliases with the first part)."""
    org = synth.generate(people=48, weeks=5, seed=23, start=START)
    tables = {t: df.reset_index(drop=True) for t, df in synth.canonical_tables(org).items()}
    cuts = [pd.Timestamp(START) + pd.Timedelta(weeks=w) for w in (3, 4)]
    parts: list[dict[str, pd.DataFrame]] = [{}, {}, {}]
    which: dict[str, pd.Series] = {}
    for t in (*TIME_COL, *CHILD):
        if t not in tables:
            continue
        df = tables[t]
        if t in TIME_COL:
            at = pd.to_datetime(df[TIME_COL[t]])
            part = (at >= cuts[0]).astype(int) + (at >= cuts[1]).astype(int)
            which[t] = pd.Series(part.to_numpy(), index=df[df.columns[0]])
        else:
            parent, key = CHILD[t]
            part = df[key].map(which[parent])
        for i in range(3):
            parts[i][t] = df[part.to_numpy() == i]
    for t, df in tables.items():
        if t not in parts[0]:
            parts[0][t] = df
    return parts


def _add(store, part) -> None:
    for t in synth.store_load.CANONICAL:
        if t in part and len(part[t]):
            store.upsert(t, pa.Table.from_pandas(part[t], preserve_index=False))
    refresh_tz_offsets(store)


def _kept(store) -> int:
    """Kept SQL rows in the store (0 when it has no table for them)."""
    if not store.rows("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [sqlcache.TABLE])[0][0]:
        return 0
    return store.count(sqlcache.TABLE)


def _played(monkeypatch) -> list[str]:
    """Record each box's source: 'played' (kept SQL) or 'compiled'."""
    seen: list[str] = []
    play, finish = StepRecorder.play, StepRecorder.finish

    def played(self, recording):
        seen.append("played")
        return play(self, recording)

    def compiled(self, expr):
        seen.append("compiled")
        return finish(self, expr)

    monkeypatch.setattr(StepRecorder, "play", played)
    monkeypatch.setattr(StepRecorder, "finish", compiled)
    return seen


def _everyone_week(store, config):
    p = plan(store, config)
    assert [j.persons for j in p.jobs] == [None], p  # an everyone box, kept
    return p


def test_a_played_update_equals_a_full_run(weeks, tmp_path, monkeypatch):
    config = Config()
    seen = _played(monkeypatch)
    with connect(tmp_path / "s.duckdb") as store:
        _add(store, weeks[0])
        assert refresh(store, config).full
        assert _kept(store) == 0  # a full run keeps nothing
        _add(store, weeks[1])
        _everyone_week(store, config)
        seen.clear()
        refresh(store, config)
        assert seen == ["compiled"]
        assert _kept(store) == 1
    with connect(tmp_path / "s.duckdb") as store:  # another process: Ibis never compiled this box
        _add(store, weeks[2])
        _everyone_week(store, config)
        seen.clear()
        refresh(store, config)
        assert seen == ["played"]
        assert plan(store, config).fresh
        got = stored_rows(store, people=True)
        refresh(store, config, full=True)
        want = stored_rows(store, people=True)
    for t in want:
        assert len(got[t]) == len(want[t]) > 0
        diff = [(a, b) for a, b in zip(got[t], want[t]) if a != b]
        assert not diff, f"{t}: {len(diff)} rows differ, first: {diff[0]}"


def test_played_and_compiled_boxes_give_the_same_rows(weeks):
    """The same box from kept SQL made over another box's calendar, and compiled for it."""
    config = Config()
    store = connect(":memory:")
    for part in weeks:
        _add(store, part)
    refresh(store, config, full=True)
    p = plan(store, config, full=True)
    from worklife.metrics.engine import open_backend
    eng = open_backend(store)
    people, offsets = eng.people(), eng.tz_offsets()

    def rows(job):
        out = []
        for rel, frame in incremental.run_job(eng, people, offsets, config, job, (p.first_day, p.last_day),
                                              False):
            out.append(rel.df().sort_values(["person_id", "day", "name"]).reset_index(drop=True))
        return pd.concat(out, ignore_index=True)

    first = incremental.Job(None, p.first_day + 7, p.first_day + 13)  # compiled and kept
    second = incremental.Job(None, p.last_day - 10, p.last_day - 1)   # a different length, other DST
    rows(first)
    assert _kept(store) == 1
    played = rows(second)
    store.run(f"DELETE FROM {sqlcache.TABLE}")
    compiled = rows(second)
    assert len(played) > 0
    pd.testing.assert_frame_equal(played, compiled)


def test_the_key_follows_settings_code_and_schemas(weeks, monkeypatch):
    config = Config()
    store = connect(":memory:")
    _add(store, weeks[0])
    from worklife.metrics.engine import open_backend
    eng = open_backend(store)
    people = eng.people()

    def cal(days: int) -> LocalCalendar:
        return LocalCalendar.build(people, eng.tz_offsets(), START, START + pd.Timedelta(days=days), config)

    key = sqlcache.recording_key(store, config, cal(6), "box:everyone:1")
    # another box over the same people and settings: the same key (the SQL does not depend on it)
    assert sqlcache.recording_key(store, config, cal(20), "box:everyone:1") == key
    assert sqlcache.recording_key(store, config, cal(6), "box:other") != key
    changed = Config()
    changed.set("metrics.email_sent_minutes", 7.0)
    assert sqlcache.recording_key(store, changed, cal(6), "box:everyone:1") != key
    monkeypatch.setattr(sqlcache, "code_fingerprint", lambda: "another version of the code")
    assert sqlcache.recording_key(store, config, cal(6), "box:everyone:1") != key
    monkeypatch.undo()
    store.run("ALTER TABLE outcomes ADD COLUMN extra_col INTEGER")
    assert sqlcache.recording_key(store, config, cal(6), "box:everyone:1") != key


def test_kept_sql_that_fails_is_dropped_and_the_box_compiled(weeks, tmp_path, monkeypatch, caplog):
    config = Config()
    seen = _played(monkeypatch)
    with connect(tmp_path / "s.duckdb") as store:
        _add(store, weeks[0])
        refresh(store, config)
        _add(store, weeks[1])
        refresh(store, config)
        (key,) = [r[0] for r in store.rows(f"SELECT key FROM {sqlcache.TABLE}")]
        broken = Recording((("wl_broken_0", "CREATE TEMP TABLE wl_broken_0 AS SELECT * FROM no_such_table"),),
                           "SELECT 1", ())
        store.run(f"UPDATE {sqlcache.TABLE} SET recording = ?", [broken.to_json()])
        _add(store, weeks[2])
        seen.clear()
        with caplog.at_level(logging.WARNING, logger="worklife.metrics.incremental"):
            refresh(store, config)
        assert seen == ["played", "compiled"]
        assert "kept SQL of a box failed to run" in caplog.text
        kept = sqlcache.load(store, key)
        assert kept is not None and kept != broken  # compiled again and kept in its place
        got = stored_rows(store, people=True)
        refresh(store, config, full=True)
        assert stored_rows(store, people=True) == got


def test_a_read_only_store_keeps_nothing_and_only_recent_keys_stay(tmp_path):
    path = tmp_path / "s.duckdb"
    rec = Recording((("t0", "CREATE TEMP TABLE t0 AS SELECT 1 AS x"),), "SELECT * FROM t0", ())
    with connect(path) as store:
        for i in range(sqlcache.KEEP + 3):
            sqlcache.save(store, f"k{i}", rec)
        kept = {r[0] for r in store.rows(f"SELECT key FROM {sqlcache.TABLE}")}
        assert len(kept) == sqlcache.KEEP and f"k{sqlcache.KEEP + 2}" in kept
        assert sqlcache.load(store, "k0") is None or "k0" in kept
    with connect(path, read_only=True) as store:
        sqlcache.save(store, "new", rec)
        assert sqlcache.load(store, "new") is None
    with connect(tmp_path / "empty.duckdb") as store:
        assert sqlcache.load(store, "anything") is None  # no table yet


def test_the_box_window_days_are_variables_not_literals(weeks):
    """The kept SQL names the box's bounds by variable: no day or instant of one box in it."""
    config = Config()
    store = connect(":memory:")
    for part in weeks[:2]:
        _add(store, part)
    refresh(store, config)
    _add(store, weeks[2])
    p = plan(store, config)
    refresh(store, config)
    (text,) = [r[0] for r in store.rows(f"SELECT recording FROM {sqlcache.TABLE}")]
    job = p.jobs[0]
    for day in (job.d0, job.d1):
        assert str(day) not in text
    assert day_date(job.d0).isoformat() not in text
    assert "getvariable('wl_win_lo_ts')" in text.lower() and "wl_mt_keyed_person_offsets" in text
    assert "ibis_pandas_memtable" not in text
