"""A box's compiled SQL kept in this user's cache (``worklife.metrics.sqlcache``).

What a user depends on: an update that plays the SQL kept by an earlier update gives
exactly the rows a full run gives (oracle: one full run, row for row); a changed setting,
code or schema never plays SQL compiled for another; kept SQL that no longer runs is
dropped and the box compiled; SQL in a folder or file others can write is never run.
"""

from __future__ import annotations

import logging
import os
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from _metrics_store import assert_equals_full_run

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


@pytest.fixture(autouse=True)
def folder(monkeypatch, tmp_path):
    """Each test's own cache folder (made by the first save)."""
    monkeypatch.setenv(sqlcache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / "sql"


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


def _kept() -> list:
    """The kept recordings' files."""
    return sorted(sqlcache.cache_dir().glob("*.json"))


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
        assert len(_kept()) == 0  # a full run keeps nothing
        _add(store, weeks[1])
        _everyone_week(store, config)
        seen.clear()
        refresh(store, config)
        assert seen == ["compiled"]
        assert len(_kept()) == 1
    with connect(tmp_path / "s.duckdb") as store:  # as another process would: nothing compiled yet
        _add(store, weeks[2])
        _everyone_week(store, config)
        seen.clear()
        refresh(store, config)
        assert seen == ["played"]
        assert plan(store, config).fresh
        assert_equals_full_run(store, config)


def test_played_and_compiled_boxes_give_the_same_rows(weeks, monkeypatch):
    """The same box from kept SQL made over another box's calendar, and compiled for it."""
    config = Config()
    seen = _played(monkeypatch)
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

    ids = sorted(people["person_id"])
    boxes = [  # (the box compiled and kept, another of its shape played)
        (incremental.Job(None, p.first_day + 7, p.first_day + 13),  # everyone
         incremental.Job(None, p.last_day - 10, p.last_day - 1)),   # a different length, other DST
        (incremental.Job(ids[:5], p.first_day + 3, p.first_day + 4),  # listed people
         incremental.Job(ids[7:40:3], p.first_day + 15, p.last_day - 2)),
    ]
    for n, (first, second) in enumerate(boxes, start=1):
        rows(first)
        assert len(_kept()) == n
        seen.clear()
        played = rows(second)
        kept = {f: f.read_text() for f in _kept()}
        for f in kept:
            f.unlink()
        compiled = rows(second)
        assert seen == ["played", "compiled"]
        assert len(played) > 0 and played["person_id"].nunique() > 1
        pd.testing.assert_frame_equal(played, compiled)
        for f, text in kept.items():
            f.write_text(text)


def test_the_key_follows_settings_code_and_schemas(weeks, monkeypatch):
    config = Config()
    store = connect(":memory:")
    _add(store, weeks[0])
    from worklife.metrics.engine import open_backend
    eng = open_backend(store)
    people = eng.people()

    def cal(days: int) -> dict:
        return LocalCalendar.build(people, eng.tz_offsets(), START, START + pd.Timedelta(days=days),
                                   config).memtables()

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
        (path,) = _kept()
        key = path.stem
        broken = Recording((("wl_broken_0", "CREATE TEMP TABLE wl_broken_0 AS SELECT * FROM no_such_table"),),
                           "SELECT 1", ())
        path.write_text(broken.to_json())
        _add(store, weeks[2])
        seen.clear()
        with caplog.at_level(logging.WARNING, logger="worklife.metrics.incremental"):
            refresh(store, config)
        assert seen == ["played", "compiled"]
        assert "kept SQL of a box failed to run" in caplog.text
        kept = sqlcache.load(key)
        assert kept is not None and kept != broken  # compiled again and kept in its place
        assert_equals_full_run(store, config)


def test_only_recent_keys_stay_and_only_private_files_are_run(folder):
    rec = Recording((("t0", "CREATE TEMP TABLE t0 AS SELECT 1 AS x"),), "SELECT * FROM t0", ())
    keys = [f"{i:064x}" for i in range(sqlcache.KEEP + 3)]
    for i, key in enumerate(keys):
        sqlcache.save(key, rec)
        os.utime(folder / f"{key}.json", (1_000_000 + i, 1_000_000 + i))
    sqlcache.save(keys[-1], rec)  # pruning runs on save: the oldest three go
    assert sorted(p.stem for p in _kept()) == sorted(keys[3:])
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
    assert sqlcache.load(keys[-1]) == rec and sqlcache.load(keys[0]) is None
    # a file others can write, or a symlink, is not run
    (folder / f"{keys[-1]}.json").chmod(0o666)
    assert sqlcache.load(keys[-1]) is None
    target = folder.parent / "planted.json"
    target.write_text(rec.to_json())
    (folder / f"{keys[-2]}.json").unlink()
    (folder / f"{keys[-2]}.json").symlink_to(target)
    assert sqlcache.load(keys[-2]) is None
    # a folder others can write: nothing is read from it or kept in it
    assert sqlcache.load(keys[-3]) == rec
    folder.chmod(0o777)
    assert sqlcache.load(keys[-3]) is None
    sqlcache.save("f" * 64, rec)
    assert not (folder / f"{'f' * 64}.json").exists()
    folder.chmod(0o700)
    with pytest.raises(ValueError):
        sqlcache.load("../../etc/passwd")


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
    (text,) = [p.read_text() for p in _kept()]
    job = p.jobs[0]
    for day in (job.d0, job.d1):
        assert str(day) not in text
    assert day_date(job.d0).isoformat() not in text
    assert "getvariable('wl_win_lo_ts')" in text.lower() and "wl_mt_keyed_person_offsets" in text
    assert "ibis_pandas_memtable" not in text
