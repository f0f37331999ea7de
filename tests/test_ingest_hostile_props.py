"""Hostile input, generated: random nesting, random bytes in fields, random dates at the edges;
and the recurrence rules of RFC 5545 that libical's test files pin down."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _hostile import GOOD_MESSAGE, SLACK_USERS, ics, vevent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worklife import ingest
from worklife.config import Config
from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.limits import clean_text, excerpt, json_depth
from worklife.ingest.mail import MailRows, parse_header_block
from worklife.store import connect

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def ingest_into(store, path: Path, **kw):
    try:
        return ingest.run([path], store, Config(), **kw)
    except IngestError as exc:  # nothing readable at all: one clear line, never a traceback
        assert "\n" not in str(exc)
        return []


def meetings(path: Path, **kw) -> list[datetime]:
    with connect(":memory:") as s:
        ingest.run([path], s, Config(), **kw)
        return [r[0] for r in s.con.execute("SELECT start_utc FROM meetings ORDER BY 1").fetchall()]


# -- recurrence (RFC 5545 3.8.5.3, libical) ------------------------------------------------
def test_count_includes_a_dtstart_that_does_not_match_the_rule(tmp_path):
    p = tmp_path / "c.ics"  # a Tuesday DTSTART, a Wednesday rule: Tue, Wed, Wed
    p.write_text(ics(vevent("c", "20240102T090000Z", "RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=WE\r\n")), newline="")
    assert meetings(p) == [datetime(2024, 1, 2, 9), datetime(2024, 1, 3, 9), datetime(2024, 1, 10, 9)]


def test_count_with_a_matching_dtstart_is_unchanged(tmp_path):
    p = tmp_path / "c.ics"
    p.write_text(ics(vevent("c", "20240103T090000Z", "RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=WE\r\n")), newline="")
    assert meetings(p) == [datetime(2024, 1, 3, 9), datetime(2024, 1, 10, 9), datetime(2024, 1, 17, 9)]


def test_a_floating_until_is_read_in_the_zone_of_dtstart(tmp_path):
    p = tmp_path / "u.ics"  # 09:00, 13:00, 17:00 Los Angeles time (UTC-8 in January)
    p.write_text(ics("BEGIN:VEVENT\r\nUID:u\r\nDTSTART;TZID=America/Los_Angeles:20240102T090000\r\nDURATION:PT1H\r\n"
                     "RRULE:FREQ=HOURLY;INTERVAL=4;UNTIL=20240102T170000\r\nEND:VEVENT\r\n"), newline="")
    assert meetings(p) == [datetime(2024, 1, 2, 17), datetime(2024, 1, 2, 21), datetime(2024, 1, 3, 1)]


def test_exrule_removes_its_instances(tmp_path):
    p = tmp_path / "x.ics"  # 14 days from a Monday without the weekends: 10 days
    p.write_text(ics(vevent("x", "20240101T090000Z", "RRULE:FREQ=DAILY;COUNT=14\r\nEXRULE:FREQ=WEEKLY;BYDAY=SA,SU\r\n")),
                 newline="")
    days = meetings(p)
    assert len(days) == 10 and all(d.weekday() < 5 for d in days)


@pytest.mark.parametrize("rule", ["FREQ=SECONDLY", "FREQ=MINUTELY;BYSETPOS=100", "FREQ=SECONDLY;BYSETPOS=2",
                                  "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
                                  "FREQ=SECONDLY;COUNT=2000000000", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;INTERVAL=4"])
def test_hostile_rules_end_and_keep_the_good_event(tmp_path, rule):
    p = tmp_path / "r.ics"
    p.write_text(ics(vevent("good", "20240102T100000Z", end="20240102T110000Z"),
                     vevent("r", "19990103T100000Z", f"RRULE:{rule}\r\n")), newline="")
    with connect(":memory:") as s:
        ingest.run([p], s, Config(), window=(datetime(2024, 1, 1).date(), datetime(2024, 1, 31).date()))
        assert s.con.execute("SELECT count(*) FROM meetings WHERE uid = 'good'").fetchone()[0] == 1


# -- random nesting ------------------------------------------------------------------------
@st.composite
def nested(draw) -> str:
    depth = draw(st.integers(1, 3000))
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    return opener * depth + draw(st.sampled_from(["1", "null", '"x"', ""])) + closer * draw(st.integers(0, depth))


@FAST
@given(text=nested())
def test_random_nesting_never_loses_the_good_day(text):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "slack"
        (src / "general").mkdir(parents=True)
        (src / "users.json").write_text(json.dumps(SLACK_USERS))
        (src / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": ["U1"]}]))
        (src / "general" / "2024-01-02.json").write_text(json.dumps([GOOD_MESSAGE]))
        (src / "general" / "2024-01-03.json").write_text(text)
        with connect(":memory:") as s:
            ingest_into(s, src)
            assert s.con.execute("SELECT count(*) FROM messages WHERE message_key = 'C1:1704189600.000100'"
                                 ).fetchone()[0] == 1


def test_json_depth_skips_brackets_in_strings():
    assert json_depth('["[[[[", {"a": ["]"]}]', 10) == 3


# -- random bytes in fields ----------------------------------------------------------------
FIELDS = st.binary(max_size=300)


@FAST
@given(subject=FIELDS, to=FIELDS, date=FIELDS, msgid=FIELDS)
def test_random_bytes_in_mail_headers_never_raise_and_never_reach_the_store_raw(subject, to, date, msgid):
    data = (b"From: alice@example.com\nTo: " + to.replace(b"\n", b" ") + b"\nDate: " + date.replace(b"\n", b" ")
            + b"\nMessage-ID: " + msgid.replace(b"\n", b" ") + b"\nSubject: " + subject.replace(b"\n", b" ") + b"\n\n")
    parsed = parse_header_block(data, "box:1")
    ctx = IngestContext(config=Config())
    batch = Batch()
    MailRows(ctx, "box", None).add(batch, parsed)
    with connect(":memory:") as s:
        summary = ingest.IngestSummary(source="box", kind="mbox")
        ingest.write_batch(s, batch, "box", summary)
        for row in s.con.execute("SELECT message_key, subject_or_channel, sent_utc FROM messages").fetchall():
            assert all("\x00" not in (v or "") for v in row[:2])
            assert 1970 <= row[2].year <= 2100
        for (ex,) in s.con.execute("SELECT excerpt FROM quarantine").fetchall():
            assert len((ex or "").encode()) <= 200


@FAST
@given(text=st.text(max_size=2000))
def test_excerpts_are_bounded_and_clean(text):
    out = excerpt(text)
    assert len(out.encode()) <= 200
    assert clean_text(out) == out


# -- random dates at the edges -------------------------------------------------------------
EDGE_YEARS = st.one_of(st.integers(1, 3), st.integers(1968, 1971), st.integers(2099, 2102), st.integers(9997, 9999))


@FAST
@given(year=EDGE_YEARS, month=st.integers(1, 12), day=st.integers(1, 28), offset=st.sampled_from(["Z", "-05:00", "+14:00"]))
def test_edge_dates_in_csv_are_stored_in_range_or_quarantined(year, month, day, offset):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "activity.csv"
        p.write_text("kind,id,sent,sender,recipients,subject\n"
                     "email,good,2024-01-02T10:00:00Z,alice@example.com,bob@example.com,ok\n"
                     f"email,edge,{year:04d}-{month:02d}-{day:02d}T23:30:00{offset},alice@example.com,bob@example.com,x\n")
        with connect(":memory:") as s:
            ingest_into(s, p)
            rows = dict(s.con.execute("SELECT message_key, sent_utc FROM messages").fetchall())
            assert "good" in rows
            assert all(1970 <= v.year <= 2100 for v in rows.values())
            stored_or_quarantined = ("edge" in rows) + s.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            assert stored_or_quarantined == 1


@FAST
@given(ts=st.one_of(st.integers(-10**12, 10**13).map(str), st.floats(allow_nan=True).map(str), st.text(max_size=20),
                    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_any_slack_ts_is_stored_in_range_or_quarantined(ts):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "slack"
        (src / "general").mkdir(parents=True)
        (src / "users.json").write_text(json.dumps(SLACK_USERS))
        (src / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": ["U1"]}]))
        (src / "general" / "2024-01-02.json").write_text(json.dumps([GOOD_MESSAGE, {**GOOD_MESSAGE, "ts": ts,
                                                                                   "thread_ts": ts}]))
        with connect(":memory:") as s:
            ingest_into(s, src)
            sent = [r[0] for r in s.con.execute("SELECT sent_utc FROM messages").fetchall()]
            assert datetime(2024, 1, 2, 10, 0, 0, 100) in sent
            assert all(1970 <= v.year <= 2100 for v in sent)


@settings(max_examples=12, deadline=None)
@given(year=EDGE_YEARS, freq=st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
def test_edge_dtstarts_with_any_rule_end_and_stay_in_range(year, freq):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "e.ics"
        p.write_text(ics(vevent("good", "20240102T100000Z", end="20240102T110000Z"),
                         vevent("edge", f"{year:04d}0101T100000Z", f"RRULE:FREQ={freq}\r\n")), newline="")
        with connect(":memory:") as s:
            ingest_into(s, p)
            starts = [r[0] for r in s.con.execute("SELECT start_utc FROM meetings").fetchall()]
            assert datetime(2024, 1, 2, 10) in starts
            assert all(1970 <= v.year <= 2100 for v in starts)
    assert datetime.now(UTC)  # the run ended


def test_a_hostile_guest_list_is_cut_and_noted(tmp_path):
    p = tmp_path / "a.ics"
    guests = "".join(f"ATTENDEE:mailto:user{i:04d}@example.com\r\n" for i in range(50))
    p.write_text(ics(vevent("big", "20240102T100000Z", guests, end="20240102T110000Z")), newline="")
    with connect(":memory:") as s:
        (summary,) = ingest.run([p], s, Config({"ingest.max_recipients": 10}))
        assert s.con.execute("SELECT count(*) FROM meeting_attendees").fetchone()[0] == 10
    assert any("more than 10 attendees cut" in n for n in summary.notes)
