"""What the cheaper incremental path (docs/performance.md, pass 7) must still get right.

- ``resolve_people`` resolves each distinct raw schedule once: oracle, resolving every
  person alone with ``workcal.resolve_person``;
- an incremental commit no longer rewrites ``metric_people`` or looks for rows outside
  the range when nothing calls for it: a person no longer measured and a range that
  shrank (its last week deleted, and marked touched: the store records no deletions)
  must still lose exactly their rows (oracle: one full run, row for row);
- the stored rows are read onto the person × period grid by position: oracle, the
  in-memory computation of the whole metric set, and a subset of persons and weeks.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from _metrics_store import stored_rows

from worklife.config import Config
from worklife.metrics import incremental, person_metrics, prepare
from worklife.metrics.localtime import resolve_people
from worklife.metrics.results import person_weeks, plan, refresh
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets
from worklife.workcal import resolve_person

synth = pytest.importorskip("worklife.synth")

START = date(2025, 3, 3)


@pytest.fixture(scope="module")
def tables():
    org = synth.generate(people=48, weeks=4, seed=11, start=START)
    return {t: df.reset_index(drop=True) for t, df in synth.canonical_tables(org).items()}


def _store(tables):
    store = connect(":memory:")
    for t, df in tables.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    return store


def _rows(store) -> dict[str, list[tuple]]:
    return stored_rows(store, people=True)


def _full(store, config) -> dict[str, list[tuple]]:
    refresh(store, config, full=True)
    return _rows(store)


def test_resolve_people_resolves_like_each_person_alone():
    config = Config()
    people = pd.DataFrame({
        "person_id": ["a@example.com", "b@example.com", "c@example.com", "d@example.com", "e@example.com",
                      "f@example.com"],
        "tz": ["Europe/Paris", "Europe/Paris", None, "Not/AZone", "Europe/Paris", "America/Toronto"],
        "work_start": ["09:00", "09:00", "08:00", " ", "09:00", "07:30"],
        "work_end": ["17:00", "17:00", "16:00", "18:00", "18:00", "15:30"],
        "workdays": ["Mon-Fri", "Mon-Fri", "Sun-Thu", None, "Mon-Fri", "Mon,Wed,Fri"],
        "jurisdiction": ["FR", "FR", "", "fr", "FR", "CA-ON"],
        "team": ["x", "x", None, "y", "x", "z"],
    })
    frame, schedules = resolve_people(people, config)
    alone = [resolve_person(r, config) for r in people.astype(object).where(people.notna(), None).to_dict("records")]
    assert schedules == {ws.person_id: ws for ws in alone}
    assert frame["person_id"].tolist() == [ws.person_id for ws in alone]
    assert frame["tz"].tolist() == [ws.tz for ws in alone]
    assert frame["work_end_s"].tolist() == [ws.work_end_s for ws in alone]
    assert frame["defaults_used"].tolist() == [",".join(ws.defaults_used) for ws in alone]
    assert frame["team"].tolist()[:2] == ["x", "x"]
    # a and b share everything; e differs from them by its end of day only
    assert frame.loc[0, "sched_id"] == frame.loc[1, "sched_id"] != frame.loc[4, "sched_id"]
    assert frame.loc[0, "cal_id"] == frame.loc[4, "cal_id"]

    # schedules are made when asked for: each one is its person's, like resolving them alone
    assert schedules["c@example.com"] == alone[2] and len(schedules) == 6


def test_schedule_fingerprints_are_the_hash_of_each_persons_resolved_schedule():
    """Stored results remember the fingerprint each person's rows were computed with: it
    must depend on the resolved schedule only (equal schedules, equal fingerprints) and stay
    the same hash as before it was computed once per distinct schedule."""
    import hashlib

    people = pd.DataFrame({
        "person_id": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"],
        "tz": ["Europe/Paris", "Europe/Paris", "Europe/Paris", "Asia/Tokyo"],
        "work_start": ["09:00", "09:00", "09:00", "09:00"],
        "work_end": ["17:00", "17:00", "17:00", "17:00"],
        "workdays": ["Mon-Fri", "Mon-Fri", "Mon-Thu", "Mon-Fri"],
        "jurisdiction": ["FR", "FR", "FR", "FR"],
    })
    frame, _ = resolve_people(people, Config())
    fps = incremental.people_fingerprints(frame)
    fields = ["tz", "work_start_s", "work_end_s", "workmask", "jurisdiction"]
    for row in frame.to_dict("records"):
        expected = hashlib.sha256("|".join(str(row[f]) for f in fields).encode()).hexdigest()[:16]
        assert fps[row["person_id"]] == expected
    assert fps["a@example.com"] == fps["b@example.com"]
    assert len({fps["a@example.com"], fps["c@example.com"], fps["d@example.com"]}) == 3
    assert incremental.people_fingerprints(frame.iloc[0:0]) == {}


def test_a_person_no_longer_measured_loses_their_rows(tables):
    config = Config()
    store = _store(tables)
    refresh(store, config)
    gone = store.con.execute("SELECT min(person_id) FROM metric_people").fetchall()[0][0]
    store.con.execute("UPDATE people SET is_measured = false WHERE person_id = ?", [gone])
    stale = plan(store, config)
    assert stale.drop_people == [gone] and not stale.full
    refresh(store, config)
    after = _rows(store)
    assert gone not in {r[0] for r in after["metric_days"]} | {r[0] for r in after["metric_people"]}
    assert after == _full(store, config)


def test_a_range_that_shrank_drops_the_rows_outside_it(tables, monkeypatch):
    monkeypatch.setattr(incremental, "JOB_FIXED_COST", 0)  # a small store: boxes must be worth it
    config = Config()
    store = _store(tables)
    refresh(store, config)
    cutoff = pd.Timestamp(START) + pd.Timedelta(weeks=3)  # the last week's activity goes
    store.con.execute("DELETE FROM meeting_attendees WHERE meeting_key IN "
                      "(SELECT meeting_key FROM meetings WHERE start_utc >= ?)", [cutoff])
    store.con.execute("DELETE FROM meetings WHERE start_utc >= ?", [cutoff])
    store.con.execute("DELETE FROM message_recipients WHERE message_key IN "
                      "(SELECT message_key FROM messages WHERE sent_utc >= ?)", [cutoff])
    store.con.execute("DELETE FROM messages WHERE sent_utc >= ?", [cutoff])
    store.con.execute("DELETE FROM outcomes WHERE at_utc >= ?", [cutoff])
    # the store records no deletions: mark the deleted week touched for everyone, as if it did
    lo, hi = int(cutoff.timestamp()), int((cutoff + pd.Timedelta(weeks=1)).timestamp())
    store.con.execute("INSERT INTO metric_touched SELECT nextval('metric_touched_seq'), person_id, ?, ? "
                      "FROM metric_people", [lo, hi])
    stale = plan(store, config)
    assert stale.span_changed and stale.may_leave_rows_outside and not stale.full
    refresh(store, config)
    after = _rows(store)
    assert max(r[1] for r in after["metric_days"]) <= stale.last_day
    assert after == _full(store, config)


def test_an_added_week_commits_like_a_full_run_and_reads_like_memory(tables, monkeypatch):
    monkeypatch.setattr(incremental, "JOB_FIXED_COST", 0)
    config = Config()
    cutoff = pd.Timestamp(START) + pd.Timedelta(weeks=3)
    time_col = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
    early = {t: df[df[time_col[t]] < cutoff] if t in time_col else df for t, df in tables.items()}
    keys = {"meeting_attendees": ("meeting_key", early["meetings"]), "message_recipients": ("message_key",
                                                                                          early["messages"])}
    for t, (key, parent) in keys.items():
        early[t] = tables[t][tables[t][key].isin(parent[key])]
    store = _store(early)
    refresh(store, config)
    for t, df in tables.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    stale = plan(store, config)
    assert stale.jobs and not stale.full and not stale.may_leave_rows_outside and not stale.people_changed
    done = refresh(store, config)
    assert done.person_days > 0
    after, read = _rows(store), person_weeks(store, config)
    assert after == _full(store, config)
    pd.testing.assert_frame_equal(read, person_metrics(prepare(store, config)))
    some = sorted(read["person_id"].unique())[1:4]
    weeks = sorted(read["week"].unique())[1:3]
    subset = person_weeks(store, config, persons=some, weeks=weeks)
    expected = read[read["person_id"].isin(some) & read["week"].isin(weeks)].reset_index(drop=True)
    pd.testing.assert_frame_equal(subset, expected)
    days = person_weeks(store, config, period="day")
    pd.testing.assert_frame_equal(days, person_metrics(prepare(store, config), "day"))
