"""The iCalendar adapter on the python-recurring-ical-events test calendars (../shared).

Every calendar must be read or quarantined with a reason, never crash the run, and a
handful of occurrence counts must match what that project's own tests expect
(test_deleted_entries.py, test_count.py, test_simple_recurrent_events.py,
test_issue_62_moved_event.py, test_issue_75_range_parameter.py,
test_daylight_saving_time.py, test_issue_18_cancel_status.py).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from worklife.config import Config
from worklife.ingest import ics
from worklife.ingest.base import IngestContext

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FOLDER = SHARED / "data" / "ical" / "recurring-ical-events"
CALENDARS = sorted(FOLDER.glob("*.ics")) if FOLDER.exists() else []
WIDE = (date(1970, 1, 1), date(2100, 1, 1))


def read(name: str, window: tuple[date, date] | None = WIDE):
    path = FOLDER / f"{name}.ics"
    if not path.exists():
        pytest.skip(f"{path} is absent (real public data lives in ../shared)")
    meetings, quarantine, notes = [], [], []
    for batch in ics.read(path, IngestContext(config=Config(), window=window)):
        meetings += batch.rows["meetings"]
        quarantine += batch.quarantine
        notes += batch.notes
    return meetings, quarantine, notes


@pytest.mark.skipif(not CALENDARS, reason="../shared/data/ical/recurring-ical-events is absent")
@pytest.mark.parametrize("path", CALENDARS, ids=[p.stem for p in CALENDARS])
def test_every_calendar_is_read_or_quarantined_with_a_reason(path):
    meetings, quarantine, notes = read(path.stem, window=None)
    has_events = "BEGIN:VEVENT" in path.read_text(encoding="utf-8", errors="replace")
    assert all(q.reason and q.location.startswith(str(path)) for q in quarantine)
    if has_events:
        assert meetings or quarantine or any("no occurrence" in n for n in notes)
    for m in meetings:
        assert m["start_utc"].tzinfo is None and m["start_utc"] <= m["end_utc"]
        assert m["meeting_key"] == f"{m['uid']}|{m['recurrence_id']}"


@pytest.mark.parametrize(("name", "count"), [
    ("each_week_but_one_deleted", 7),
    ("each_week_but_two_deleted", 6),
    ("issue_20_exdate_ignored", 7),
    ("issue_148_ignored_exdate", 2),
    ("issue_117_until_before_dtstart", 0),
    ("three_events", 3),
])
def test_occurrence_counts_match_the_upstream_expectations(name, count):
    meetings, quarantine, _ = read(name)
    assert (len(meetings), quarantine) == (count, [])


@pytest.mark.parametrize(("name", "window", "count"), [
    ("issue_62_moved_event_2", (date(2023, 8, 1), date(2023, 8, 31)), 6),
    ("issue_75_range_parameter", (date(2024, 9, 1), date(2024, 9, 25)), 13),
], ids=["moved-event-in-august", "range-thisandfuture"])
def test_occurrence_counts_in_a_window_match_upstream(name, window, count):
    meetings, _, _ = read(name, window)
    assert len(meetings) == count


@pytest.mark.parametrize(("day", "utc"), [
    (date(2019, 3, 20), datetime(2019, 3, 20, 18)),  # 19:00 Berlin, winter time
    (date(2019, 4, 24), datetime(2019, 4, 24, 17)),  # 19:00 Berlin, summer time
])
def test_google_calendar_series_keeps_local_time_across_dst(day, utc):
    meetings, _, _ = read("daylight_saving_time")
    assert utc in {m["start_utc"] for m in meetings if m["start_utc"].date() == day}


def test_cancelled_occurrence_of_upstream_calendar():
    meetings, _, _ = read("issue_18_cancel_status")
    status = {m["start_utc"].date(): m["status"] for m in meetings}
    assert (status[date(2020, 1, 28)], status[date(2020, 1, 29)], status[date(2020, 1, 30)]) == (
        "confirmed", "cancelled", "confirmed")


def test_a_rule_without_until_value_is_quarantined_with_the_reason():
    _, quarantine, _ = read("bad_rrule_missing_until_event")
    assert len(quarantine) == 1 and "UNTIL" in quarantine[0].reason
