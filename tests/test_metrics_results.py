"""Stored metric results and incremental runs (docs/metrics.md "Stored results").

Oracle: one full run over the whole store. The synthetic organisation is written in
slices in random order — rows of one table split across slices, attendees and
recipients before or after their meeting or message, old weeks arriving late, a meeting
first stored at the wrong time and then moved, a person first stored with the wrong
zone — with an incremental refresh after each slice. The final stored rows must equal
those of one full run exactly, row for row, and ``person_weeks`` must equal the
in-memory computation of the whole metric set.
"""

from __future__ import annotations

import random
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from _metrics_store import stored_rows

from worklife.config import Config
from worklife.metrics import incremental, person_metrics, prepare
from worklife.metrics.results import person_weeks, plan, refresh
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

synth = pytest.importorskip("worklife.synth")

START = date(2025, 3, 3)  # six weeks across the US and EU spring DST changes
WEEK_S = 7 * 86400


@pytest.fixture(scope="module")
def tables():
    org = synth.generate(people=48, weeks=6, seed=5, start=START)
    return {t: df.reset_index(drop=True) for t, df in synth.canonical_tables(org).items()}


def _stored(store) -> dict[str, list[tuple]]:
    return stored_rows(store)


def _full_store(tables, config):
    store = connect(":memory:")
    for t, df in tables.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    refresh(store, config, full=True)
    return store


def _slices(tables, n: int, rng: random.Random) -> list[dict[str, pd.DataFrame]]:
    """Rows split into ``n`` slices: messages/meetings/outcomes by their week (so old weeks
    can come late), everything else at random."""
    slices: list[dict[str, pd.DataFrame]] = [{} for _ in range(n)]
    time_col = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
    for t, df in tables.items():
        if t in time_col:
            week = (pd.to_datetime(df[time_col[t]]).astype("int64") // 10**9 // WEEK_S)
            order = {w: i for i, w in enumerate(sorted(set(week)))}
            which = week.map({w: i % n for w, i in order.items()})
        else:
            which = pd.Series([rng.randrange(n) for _ in range(len(df))])
        for i in range(n):
            part = df[which.values == i]
            if len(part):
                slices[i][t] = part
    return slices


def test_incremental_slices_equal_one_full_run(tables, monkeypatch):
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # never fall back to a full run
    config = Config()
    config.set("metrics.batch_people", 7)  # several batches per box
    rng = random.Random(19)
    slices = _slices(tables, 5, rng)
    rng.shuffle(slices)
    store = connect(":memory:")
    # a meeting first stored three weeks early, and a person first stored in the wrong zone
    moved = tables["meetings"].iloc[[len(tables["meetings"]) // 2]].copy()
    truth_start, truth_end = moved["start_utc"].iloc[0], moved["end_utc"].iloc[0]
    moved["start_utc"] -= pd.Timedelta(weeks=3)
    moved["end_utc"] -= pd.Timedelta(weeks=3)
    wrong = tables["people"].iloc[[3]].copy()
    wrong["tz"] = "Asia/Tokyo" if wrong["tz"].iloc[0] != "Asia/Tokyo" else "America/Denver"
    store.upsert("meetings", pa.Table.from_pandas(moved, preserve_index=False))
    store.upsert("people", pa.Table.from_pandas(wrong, preserve_index=False))
    att = tables["meeting_attendees"]
    store.upsert("meeting_attendees", pa.Table.from_pandas(
        att[att.meeting_key == moved["meeting_key"].iloc[0]], preserve_index=False))
    refresh_tz_offsets(store)
    first = refresh(store, config)
    assert first.full  # nothing stored yet
    kinds = set()
    for i, part in enumerate(slices):
        for t in synth.store_load.CANONICAL:
            if t in part:
                update = t in ("meetings", "people")  # authoritative rows overwrite (moved, re-zoned)
                store.upsert(t, pa.Table.from_pandas(part[t], preserve_index=False), update=update)
        refresh_tz_offsets(store)
        p = plan(store, config)
        kinds.add("full" if p.full else "jobs" if p.jobs else "fresh")
        done = refresh(store, config)
        assert not done.full, f"slice {i}: {done.reasons}"
        assert plan(store, config).fresh
    stored = store.con.execute("SELECT start_utc, end_utc FROM meetings WHERE meeting_key = ?",
                               [moved["meeting_key"].iloc[0]]).fetchall()[0]
    assert (pd.Timestamp(stored[0]), pd.Timestamp(stored[1])) == (truth_start, truth_end)
    assert kinds == {"jobs"}
    full = _full_store(tables, config)
    got, want = _stored(store), _stored(full)
    for t in want:
        assert len(got[t]) == len(want[t]) > 0
        diff = [(a, b) for a, b in zip(got[t], want[t]) if a != b]
        assert not diff, f"{t}: {len(diff)} rows differ, first: {diff[0]}"
    # what readers get equals the whole metric set computed in memory
    expect = person_metrics(prepare(full, config))
    pd.testing.assert_frame_equal(person_weeks(store, config), expect)
    pd.testing.assert_frame_equal(person_weeks(full, config), expect)


def test_second_call_recomputes_nothing_and_settings_invalidate(tables):
    config = Config()
    store = _full_store(tables, config)
    assert plan(store, config).fresh
    assert refresh(store, config).fresh
    # a setting read only when results are read changes nothing stored
    config.set("metrics.over_hours_threshold", 30.0)
    assert plan(store, config).fresh
    # a setting the pipeline reads invalidates everything
    config.set("metrics.focus_block_hours", 1.5)
    p = plan(store, config)
    assert p.full
    refresh(store, config)
    pd.testing.assert_frame_equal(person_weeks(store, config), person_metrics(prepare(store, config)))


def test_late_message_touches_only_its_week_and_people(tables, monkeypatch):
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # a small store would rather run in full
    config = Config()
    store = _full_store(tables, config)
    msg = tables["messages"]
    rcp = tables["message_recipients"]
    email = msg[(msg.channel == "email")].iloc[0]
    late = pd.DataFrame([{**email.to_dict(), "message_key": "late-1",
                          "sent_utc": pd.Timestamp(START) + pd.Timedelta(days=16, hours=10)}])
    to = rcp[rcp.message_key == email.message_key].assign(message_key="late-1")
    store.upsert("messages", pa.Table.from_pandas(late, preserve_index=False))
    store.upsert("message_recipients", pa.Table.from_pandas(to, preserve_index=False))
    p = plan(store, config)
    assert not p.full and len(p.jobs) == 1
    job = p.jobs[0]
    assert set(job.persons) == {email.sender_id, *to.person_id} & set(p.people_fp)
    assert job.d1 - job.d0 + 1 <= 14  # its week (and the next when near the boundary)
    refresh(store, config)
    # the touched rows were consumed: the next reader finds the results fresh by the
    # cheap checks alone (it used to resolve everyone's schedule once more first)
    assert plan(store, config).quick
    pd.testing.assert_frame_equal(person_weeks(store, config), person_metrics(prepare(store, config)))



def test_a_failed_refresh_leaves_the_previous_results_and_what_is_stale(tables, monkeypatch):
    """A refresh that fails while computing (here: its second batch) writes nothing: the
    stored rows are the old ones, the late message still makes them stale, no staging
    table is left behind, and the next refresh does the work."""
    from worklife.metrics import results

    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)
    config = Config()
    config.set("metrics.batch_people", 10)  # several batches, so the failure comes mid-run
    store = _full_store(tables, config)
    before = _stored(store)
    msg, rcp = tables["messages"], tables["message_recipients"]
    email = msg[msg.channel == "email"].iloc[0]
    late = pd.DataFrame([{**email.to_dict(), "message_key": "late-2",
                          "sent_utc": pd.Timestamp(START) + pd.Timedelta(days=9, hours=11)}])
    store.upsert("messages", pa.Table.from_pandas(late, preserve_index=False))
    store.upsert("message_recipients", pa.Table.from_pandas(
        rcp[rcp.message_key == email.message_key].assign(message_key="late-2"), preserve_index=False))
    written = []
    real = results._write_rows

    def fail_on_second(*args):
        if written:
            raise RuntimeError("disk full")
        written.append(1)
        return real(*args)

    monkeypatch.setattr(results, "_write_rows", fail_on_second)
    with pytest.raises(RuntimeError, match="disk full"):
        refresh(store, config, full=True)
    assert _stored(store) == before
    assert not plan(store, config).fresh
    assert not store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                 [results.STAGING]).fetchall()[0][0]
    monkeypatch.setattr(results, "_write_rows", real)
    refresh(store, config)
    pd.testing.assert_frame_equal(person_weeks(store, config), person_metrics(prepare(store, config)))

def test_read_only_store_reads_fresh_results_and_computes_stale_ones(tables, tmp_path):
    config = Config()
    db = tmp_path / "s.duckdb"
    store = connect(db)
    for t, df in tables.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    expect = person_metrics(prepare(store, config))
    store.close()
    with connect(db, read_only=True) as ro:  # nothing stored yet: computed in memory
        pd.testing.assert_frame_equal(person_weeks(ro, config), expect)
    with connect(db) as rw:
        refresh(rw, config)
    with connect(db, read_only=True) as ro:
        assert plan(ro, config).fresh
        pd.testing.assert_frame_equal(person_weeks(ro, config), expect)
        one = person_weeks(ro, config, persons=[expect.person_id.iloc[0]], weeks=[expect.week.iloc[-1]])
        assert len(one) == 1 and one.person_id.iloc[0] == expect.person_id.iloc[0]


def test_moved_meeting_and_zone_change_touch_exactly_their_people(monkeypatch):
    from _metrics_store import finish, meeting, message, person

    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)
    a, b, c = "alice@example.com", "bob@example.com", "carol@example.com"
    store = connect(":memory:")
    person(store, a, "Europe/Paris")
    person(store, b, "America/New_York")
    person(store, c, "UTC")
    meeting(store, "2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z", a, {b: "accepted"}, key="mv")
    message(store, "2025-03-05T15:00:00Z", c, to=[a])
    message(store, "2025-03-26T15:00:00Z", c, to=[a])
    finish(store)
    config = Config()
    refresh(store, config)
    # the meeting moves three weeks later: its attendees' old and new weeks, not carol
    store.upsert("meetings", [{"meeting_key": "mv", "uid": "mv", "recurrence_id": "",
                               "start_utc": pd.Timestamp("2025-03-25 09:00"), "end_utc": pd.Timestamp("2025-03-25 10:00"),
                               "all_day": False, "status": "confirmed", "transp": "opaque", "organizer_id": a,
                               "title": "Meeting", "is_recurring": False}], update=True)
    p = plan(store, config)
    assert not p.full and {x for j in p.jobs for x in j.persons} == {a, b}
    days = {d for j in p.jobs for d in range(j.d0, j.d1 + 1)}
    old, new = (pd.Timestamp(x).date() for x in ("2025-03-04", "2025-03-25"))
    assert {incremental.day_number(old), incremental.day_number(new)} <= days
    refresh(store, config)
    pd.testing.assert_frame_equal(person_weeks(store, config), person_metrics(prepare(store, config)))
    # carol's zone changes: all of carol's weeks, nobody else's
    person(store, c, "Asia/Tokyo")
    p = plan(store, config)
    assert [j.persons for j in p.jobs] == [[c]] and (p.jobs[0].d0, p.jobs[0].d1) == (p.first_day, p.last_day)
    refresh(store, config)
    pd.testing.assert_frame_equal(person_weeks(store, config), person_metrics(prepare(store, config)))
    assert plan(store, config).fresh


def _split_at(tables, cut: pd.Timestamp) -> tuple[dict, dict]:
    """(rows before ``cut``, rows from ``cut`` on): the store as it was, and the new week."""
    time_col = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
    early, late = dict(tables), {}
    for t, col in time_col.items():
        new = tables[t][col] >= cut
        early[t], late[t] = tables[t][~new], tables[t][new]
    for t, (parent, key) in {"meeting_attendees": ("meetings", "meeting_key"),
                             "message_recipients": ("messages", "message_key")}.items():
        new = tables[t][key].isin(late[parent][key])
        early[t], late[t] = tables[t][~new], tables[t][new]
    return early, late


def test_added_week_recomputes_its_days_and_one_boundary_day_only(tables, monkeypatch):
    """A week added at a UTC Monday: the new days and, at most, the Sunday before it (the
    new week's first UTC hours are that Sunday evening west of UTC) — not the whole
    previous week. Checked on which stored rows were rewritten (their watermark)."""
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # a small store would rather run in full
    config = Config()
    cut = pd.Timestamp(START) + pd.Timedelta(weeks=5)
    monday = incremental.day_number(cut.date())
    early, late = _split_at(tables, cut)
    # plant an e-mail an hour after the cut from someone in Toronto: their Sunday evening
    people = tables["people"]
    west = people[people.tz == "America/Toronto"].person_id.iloc[0]
    email = late["messages"][late["messages"].channel == "email"].iloc[0]
    planted = pd.DataFrame([{**email.to_dict(), "message_key": "sunday-1", "sender_id": west,
                             "sent_utc": cut + pd.Timedelta(hours=1)}])
    to = late["message_recipients"][late["message_recipients"].message_key == email.message_key]
    late["messages"] = pd.concat([late["messages"], planted], ignore_index=True)
    late["message_recipients"] = pd.concat(
        [late["message_recipients"], to[to.person_id != west].assign(message_key="sunday-1")], ignore_index=True)
    tables = {**tables, **{t: pd.concat([early[t], late[t]], ignore_index=True) for t in late}}
    store = connect(":memory:")
    for t, df in early.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    refresh(store, config)
    for t in ("meetings", "meeting_attendees", "messages", "message_recipients", "outcomes"):
        store.upsert(t, pa.Table.from_pandas(late[t], preserve_index=False))
    refresh_tz_offsets(store)
    p = plan(store, config)
    assert len(p.jobs) == 1
    job = p.jobs[0]
    # new messages that fall on their sender's local Sunday before the cut (an independent
    # local-time conversion): that Sunday must be in the box, and nothing earlier is
    zoned = tables["people"][["person_id", "tz"]].dropna()
    msg = late["messages"][["message_key", "sender_id", "sent_utc"]]
    who = pd.concat([msg.rename(columns={"sender_id": "person_id"}),
                     late["message_recipients"][["message_key", "person_id"]].merge(msg, on="message_key")])
    who = who.merge(zoned, on="person_id")
    local = [pd.Timestamp(s).tz_localize("UTC").tz_convert(z).date() for s, z in zip(who.sent_utc, who.tz)]
    sunday_people = {p for p, d in zip(who.person_id, local) if incremental.day_number(d) < monday}
    assert west in sunday_people
    assert job.d0 == monday - 1 and job.d1 == p.last_day
    assert job.persons is None or sunday_people <= set(job.persons)
    done = refresh(store, config)
    assert (done.full, done.jobs) == (False, 1)
    mark = int(dict(store.con.execute("SELECT key, value FROM metric_state").fetchall())["watermark"])
    rewritten = store.con.execute("SELECT day, person_id FROM metric_days WHERE watermark = ?", [mark]).fetchall()
    assert done.person_days == len(rewritten) > 0
    assert min(d for d, _ in rewritten) == monday - 1  # the boundary Sunday; the rest of that week kept
    assert sunday_people <= {pid for d, pid in rewritten if d == monday - 1}
    # and the result is that of one full run, row for row
    full = _full_store(tables, config)
    assert _stored(store) == _stored(full)


def test_boundary_day_gets_its_own_box_when_boxes_are_cheap(monkeypatch):
    """The planner by day: the people touched on the day before a new week are exactly a
    box of their own when a box costs nothing fixed; merged into one box (everyone, one
    more day) when a box's fixed cost outweighs recomputing that day for everyone."""
    everyone = {f"user{i:03d}@example.com" for i in range(50)}
    monday = incremental.day_number(date(2025, 4, 7))
    touched = {monday - 1: {"user001@example.com", "user002@example.com"}}
    touched.update({d: set(everyone) for d in range(monday, monday + 5)})
    span = (monday - 35, monday + 13)
    jobs = incremental.plan_jobs({monday + 7}, set(), touched, span, len(everyone))
    assert [(j.persons, j.d0, j.d1) for j in jobs] == [(None, monday - 1, monday + 13)]
    monkeypatch.setattr(incremental, "JOB_FIXED_COST", 0)
    jobs = incremental.plan_jobs({monday + 7}, set(), touched, span, len(everyone))
    boxes = sorted(((j.d0, j.d1), j.persons and len(j.persons)) for j in jobs)
    assert boxes[0] == ((monday - 1, monday - 1), 2)  # the boundary day: its two people only
    assert {b[0] for b in boxes[1:]} <= {(monday, monday + 4), (monday, monday + 13), (monday + 7, monday + 13)}
