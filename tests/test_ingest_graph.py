"""The Microsoft Graph JSON adapter on saved calendarView and messages responses.

The fixtures in tests/fixtures/graph follow the shapes documented for Graph v1.0
(event: start/end dateTimeTimeZone, isAllDay, isCancelled, showAs, type, seriesMasterId,
originalStart, responseStatus, attendees; message: from, to/cc/bccRecipients,
sentDateTime, internetMessageId, conversationId, internetMessageHeaders).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.ingest import graph

PARSED = Config({"privacy.keep_titles": True})  # parser tests read titles as parsed (docs/privacy.md)

FIXTURES = Path(__file__).parent / "fixtures" / "graph"
CALENDAR = FIXTURES / "calendarview_user02.json"
MESSAGES = FIXTURES / "messages_user02.json"
SERIES = "040000008200E00074C5B7101A82E00800000000D0B9A5F03A8ADB01000000000000000010000000B2"


def run(store, *paths, **kw):
    store.upsert("people", [{"person_id": f"user0{i}@example.com", "email": f"user0{i}@example.com",
                             "tz": tz} for i, tz in ((1, "Europe/Berlin"), (2, "America/New_York"),
                                                     (3, "Asia/Tokyo"))])
    return ingest.run([str(p) for p in paths], store, PARSED, **kw)


def test_graph_responses_are_detected_by_content_not_extension(tmp_path):
    renamed = tmp_path / "page-1.txt"
    shutil.copy(CALENDAR, renamed)
    bare = tmp_path / "bare.json"  # a bare value list without @odata.context
    bare.write_text(json.dumps(json.loads(CALENDAR.read_text())["value"]))
    other = tmp_path / "users.json"  # e.g. a Slack export file
    other.write_text(json.dumps([{"id": "U01", "name": "user01", "tz": "Europe/Berlin"}]))
    assert graph.detect(renamed) and graph.detect(bare) and graph.detect(MESSAGES)
    assert not graph.detect(other)
    assert ingest.detect_kind(CALENDAR) == "graph"


def test_calendar_view_occurrences_become_meetings_in_utc(store):
    run(store, CALENDAR)
    rows = store.con.execute(
        "SELECT title, recurrence_id, start_utc, end_utc, status, is_recurring FROM meetings "
        "WHERE uid = ? ORDER BY recurrence_id", [SERIES]).fetchall()
    assert rows == [
        ("Team sync", "2025-03-24T08:00:00Z", datetime(2025, 3, 24, 8), datetime(2025, 3, 24, 8, 30), "confirmed", True),
        ("Team sync", "2025-03-31T07:00:00Z", datetime(2025, 3, 31, 7), datetime(2025, 3, 31, 7, 30), "confirmed", True),
        ("Team sync (moved)", "2025-04-07T07:00:00Z", datetime(2025, 4, 8, 8), datetime(2025, 4, 8, 8, 30),
         "confirmed", True),
        ("Canceled: Team sync", "2025-04-14T07:00:00Z", datetime(2025, 4, 14, 7), datetime(2025, 4, 14, 7, 30),
         "cancelled", True),
    ]


@pytest.mark.parametrize(("title", "start", "all_day", "transp", "show_as"), [
    ("Quarterly planning", datetime(2025, 3, 18, 15), False, "opaque", "busy"),  # Pacific (PDT, UTC-7)
    ("Focus time", datetime(2025, 3, 19, 17), False, "transparent", "free"),  # Eastern (EDT, UTC-4)
    ("Out of office", datetime(2025, 4, 18, 4), True, "opaque", "oof"),  # local midnight, New York
], ids=["windows-zone", "free-is-transparent", "all-day-in-owners-zone"])
def test_single_events(store, title, start, all_day, transp, show_as):
    run(store, CALENDAR)
    row = store.con.execute("SELECT start_utc, all_day, transp, show_as, recurrence_id FROM meetings "
                            "WHERE title = ?", [title]).fetchone()
    assert row == (start, all_day, transp, show_as, "")


def test_the_owners_own_response_and_the_organizer_are_recorded(store):
    run(store, CALENDAR)
    rows = store.con.execute(
        "SELECT person_id, response, role, is_organizer FROM meeting_attendees a JOIN meetings m USING (meeting_key) "
        "WHERE m.title = 'Quarterly planning' ORDER BY person_id").fetchall()
    assert rows == [
        ("user01@example.com", "organizer", "chair", True),
        ("user02@example.com", "accepted", "req-participant", False),  # responseStatus beats status "none"
        ("user03@example.com", "tentative", "opt-participant", False),  # the room is not a person
    ]


def test_an_event_with_an_unknown_zone_is_quarantined_by_its_id(store):
    (summary,) = run(store, CALENDAR)
    rows = store.con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert summary.quarantined == 1
    assert rows[0][0].endswith("calendarview_user02.json#040000008200E00074C5B7101A82E00800000000D0B9A5F03A8ADB01"
                               "000000000000000010000000E5")
    assert "Mars Standard Time" in rows[0][1]


def test_messages_become_headers_only_rows_with_recipients(store):
    run(store, MESSAGES)
    msgs = store.con.execute("SELECT message_key, sender_id, sent_utc, thread_id, in_reply_to, is_auto "
                             "FROM messages ORDER BY sent_utc").fetchall()
    assert msgs == [  # Message-IDs without angle brackets, as the mail adapters store them
        ("CY4PR11MB0001.namprd11.prod.outlook.com", "user02@example.com", datetime(2025, 3, 18, 21, 14, 3),
         "AAQkAGUAAAwTW09CONV1=", "CY4PR11MB0000.namprd11.prod.outlook.com", False),
        ("auto-0001@example.org", "vendor@example.org", datetime(2025, 3, 19, 2), "AAQkAGUAAAwTW09CONV1=",
         None, True),
    ]  # the draft is skipped
    recipients = store.con.execute("SELECT person_id, kind FROM message_recipients ORDER BY ALL").fetchall()
    assert recipients == [("archive@example.com", "bcc"), ("user01@example.com", "to"),
                          ("user02@example.com", "to"), ("user03@example.com", "cc")]


def test_the_same_meeting_from_graph_and_from_an_ics_export_is_one_row(tmp_path, store):
    body = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", f"UID:{SERIES}",
        "RECURRENCE-ID:20250324T080000Z", "DTSTART:20250324T080000Z", "DTEND:20250324T083000Z",
        "SUMMARY:Team sync", "ORGANIZER:mailto:user02@example.com",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:user03@example.com", "END:VEVENT", "END:VCALENDAR", ""])
    other = tmp_path / "user03@example.com.ics"
    other.write_text(body)
    run(store, CALENDAR, other)
    key = f"{SERIES}|2025-03-24T08:00:00Z"
    assert store.con.execute("SELECT count(*) FROM meetings WHERE uid = ?", [SERIES]).fetchone() == (4,)
    people = store.con.execute("SELECT person_id FROM meeting_attendees WHERE meeting_key = ? ORDER BY 1",
                               [key]).fetchall()
    assert people == [("user01@example.com",), ("user02@example.com",), ("user03@example.com",)]


def test_ingesting_twice_changes_nothing(store):
    run(store, CALENDAR, MESSAGES)
    tables = ("meetings", "meeting_attendees", "messages", "message_recipients")
    first = {t: store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    summaries = run(store, CALENDAR, MESSAGES)
    assert {t: store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables} == first
    assert sum(s.inserted for s in summaries) == 0


@pytest.mark.parametrize(("content", "reason"), [
    ('{"value": [', "not a readable Graph JSON"),
    ('{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/calendarView", "value": {}}',
     "without a Graph calendarView or messages"),
], ids=["truncated", "value-not-a-list"])
def test_broken_responses_are_quarantined(tmp_path, store, content, reason):
    path = tmp_path / "page.json"
    path.write_text(content)
    (summary,) = run(store, path, kind="graph")
    (row,) = store.con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert row[0].startswith(str(path)) and reason in row[1]


def test_a_malformed_item_is_quarantined_and_the_rest_of_the_page_is_kept(tmp_path, store):
    page = json.loads(CALENDAR.read_text())
    page["value"][0]["attendees"] = ["not an object"]
    page["value"][1]["start"] = {"dateTime": "yesterday", "timeZone": "UTC"}
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    (summary,) = run(store, path)
    assert summary.quarantined == 2  # the broken start and the unknown zone
    assert store.count("meetings") == len(page["value"]) - 2
    assert any("attendee without an e-mail address was skipped" in n for n in summary.notes)
