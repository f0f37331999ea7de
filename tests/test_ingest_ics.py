"""The iCalendar adapter, read like a manual: one behaviour a user relies on per test."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config

PARSED = Config({"privacy.keep_titles": True})  # parser tests read titles as parsed (docs/privacy.md)

PEOPLE = [
    ("user01@example.com", "Europe/Berlin"),
    ("user02@example.com", "America/New_York"),
    ("user03@example.com", "Asia/Tokyo"),
]


def ics(*events: str, header: str = "", timezones: str = "") -> str:
    """A VCALENDAR around VEVENT bodies (CRLF endings, as exports write them)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//worklife tests//EN"]
    lines += [h for h in header.strip().splitlines() if h.strip()]
    lines += [t for t in timezones.strip().splitlines() if t.strip()]
    for body in events:
        lines += ["BEGIN:VEVENT", *[b.strip() for b in body.strip().splitlines()], "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def write(folder: Path, name: str, text: str | bytes) -> Path:
    p = folder / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def run(store, *paths: Path, **kw):
    return ingest.run([str(p) for p in paths], store, PARSED, kind="ics", **kw)


def with_people(store):
    store.upsert("people", [{"person_id": e, "email": e, "tz": tz} for e, tz in PEOPLE])
    return store


def starts(store, uid: str | None = None) -> list[str]:
    sql = "SELECT strftime(start_utc, '%Y-%m-%dT%H:%MZ') FROM meetings"
    rows = store.con.execute(sql + (" WHERE uid = ?" if uid else "") + " ORDER BY start_utc",
                             [uid] if uid else []).fetchall()
    return [r[0] for r in rows]


WEEKLY_BERLIN = """
UID:weekly-berlin
SUMMARY:Team sync
DTSTART;TZID=Europe/Berlin:20250317T090000
DTEND;TZID=Europe/Berlin:20250317T093000
RRULE:FREQ=WEEKLY;COUNT=4
"""


# -- time zones ------------------------------------------------------------------------
def test_weekly_berlin_meeting_moves_one_hour_in_utc_at_the_march_change(tmp_path, store):
    run(store, write(tmp_path, "a.ics", ics(WEEKLY_BERLIN)))
    assert starts(store) == ["2025-03-17T08:00Z", "2025-03-24T08:00Z", "2025-03-31T07:00Z", "2025-04-07T07:00Z"]


def test_sydney_meeting_moves_later_in_utc_when_daylight_time_ends_in_april(tmp_path, store):
    body = """UID:weekly-sydney
    DTSTART;TZID=Australia/Sydney:20250324T090000
    DTEND;TZID=Australia/Sydney:20250324T100000
    RRULE:FREQ=WEEKLY;COUNT=4"""
    run(store, write(tmp_path, "a.ics", ics(body)))
    assert starts(store) == ["2025-03-23T22:00Z", "2025-03-30T22:00Z", "2025-04-06T23:00Z", "2025-04-13T23:00Z"]


OUTLOOK_ZONE = """
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
"""


@pytest.mark.parametrize("timezones", [OUTLOOK_ZONE, ""], ids=["with-outlook-vtimezone", "name-only"])
def test_windows_zone_names_are_read_as_their_iana_zone(tmp_path, store, timezones):
    body = WEEKLY_BERLIN.replace("TZID=Europe/Berlin", "TZID=W. Europe Standard Time")
    run(store, write(tmp_path, "outlook.ics", ics(body, timezones=timezones)))
    assert starts(store) == ["2025-03-17T08:00Z", "2025-03-24T08:00Z", "2025-03-31T07:00Z", "2025-04-07T07:00Z"]


@pytest.mark.parametrize(("header", "expected"), [
    ("X-WR-TIMEZONE:Europe/Berlin", ["2025-03-17T08:00Z", "2025-03-24T08:00Z", "2025-03-31T07:00Z"]),
    ("", ["2025-03-17T08:00Z", "2025-03-24T08:00Z", "2025-03-31T08:00Z"]),
], ids=["x-wr-timezone-keeps-local-wall-time", "plain-utc-series-stays-in-utc"])
def test_google_utc_series_recur_in_the_x_wr_timezone(tmp_path, store, header, expected):
    body = """UID:google-utc
    DTSTART:20250317T080000Z
    DTEND:20250317T083000Z
    RRULE:FREQ=WEEKLY;COUNT=3"""
    run(store, write(tmp_path, "g.ics", ics(body, header=header)))
    assert starts(store) == expected


def test_floating_times_take_the_owners_zone_and_say_so(tmp_path, store):
    with_people(store)
    body = """UID:floating
    DTSTART:20250317T090000
    DTEND:20250317T100000"""
    (summary,) = run(store, write(tmp_path, "user02@example.com.ics", ics(body)))
    assert starts(store) == ["2025-03-17T13:00Z"]  # 09:00 in New York (EDT, UTC-4)
    assert any("floating times taken in America/New_York" in n for n in summary.notes)


def test_floating_times_without_a_known_owner_use_the_default_zone(tmp_path, store):
    body = """UID:floating
    DTSTART:20250317T090000
    DTEND:20250317T100000"""
    (summary,) = run(store, write(tmp_path, "nobody.ics", ics(body)))
    assert starts(store) == ["2025-03-17T09:00Z"]  # defaults.tz is UTC
    assert any("floating times taken in" in n for n in summary.notes)


def test_all_day_events_span_local_midnights_in_the_owners_zone(tmp_path, store):
    with_people(store)
    body = """UID:holiday
    SUMMARY:Offsite
    DTSTART;VALUE=DATE:20250317
    DTEND;VALUE=DATE:20250318"""
    run(store, write(tmp_path, "user03@example.com.ics", ics(body)))
    row = store.con.execute("SELECT start_utc, end_utc, all_day FROM meetings").fetchone()
    assert row == (datetime(2025, 3, 16, 15), datetime(2025, 3, 17, 15), True)  # Tokyo is UTC+9


# -- recurrence ------------------------------------------------------------------------
DAILY = """UID:daily
SUMMARY:Standup
DTSTART:20250303T100000Z
DTEND:20250303T101500Z
RRULE:FREQ=DAILY;COUNT=5"""


def test_this_and_future_moves_every_later_occurrence_and_keeps_their_recurrence_ids(tmp_path, store):
    moved = """UID:daily
    SUMMARY:Standup (later)
    RECURRENCE-ID;RANGE=THISANDFUTURE:20250305T100000Z
    DTSTART:20250305T140000Z
    DTEND:20250305T141500Z"""
    run(store, write(tmp_path, "a.ics", ics(DAILY, moved)))
    rows = store.con.execute("SELECT recurrence_id, strftime(start_utc, '%d %H:%M'), title FROM meetings "
                             "ORDER BY recurrence_id").fetchall()
    assert rows == [
        ("2025-03-03T10:00:00Z", "03 10:00", "Standup"),
        ("2025-03-04T10:00:00Z", "04 10:00", "Standup"),
        ("2025-03-05T10:00:00Z", "05 14:00", "Standup (later)"),
        ("2025-03-06T10:00:00Z", "06 14:00", "Standup (later)"),
        ("2025-03-07T10:00:00Z", "07 14:00", "Standup (later)"),
    ]


def test_cancelled_occurrence_stays_as_a_cancelled_row(tmp_path, store):
    cancelled = """UID:daily
    RECURRENCE-ID:20250304T100000Z
    STATUS:CANCELLED
    DTSTART:20250304T100000Z
    DTEND:20250304T101500Z"""
    run(store, write(tmp_path, "a.ics", ics(DAILY, cancelled)))
    rows = dict(store.con.execute("SELECT recurrence_id, status FROM meetings").fetchall())
    assert len(rows) == 5
    assert rows["2025-03-04T10:00:00Z"] == "cancelled"
    assert {s for r, s in rows.items() if r != "2025-03-04T10:00:00Z"} == {"confirmed"}


def test_exdate_and_rdate_remove_and_add_occurrences(tmp_path, store):
    body = DAILY + "\nEXDATE:20250304T100000Z\nRDATE:20250310T100000Z"
    run(store, write(tmp_path, "a.ics", ics(body)))
    assert [s[:10] for s in starts(store)] == ["2025-03-03", "2025-03-05", "2025-03-06", "2025-03-07", "2025-03-10"]


def test_single_events_have_an_empty_recurrence_id(tmp_path, store):
    run(store, write(tmp_path, "a.ics", ics("UID:one\nDTSTART:20250303T100000Z\nDTEND:20250303T110000Z")))
    assert store.con.execute("SELECT meeting_key, recurrence_id, is_recurring FROM meetings").fetchall() == [
        ("one|", "", False)]


def test_window_bounds_series_but_keeps_single_events(tmp_path, store):
    endless = "UID:endless\nDTSTART:20250101T100000Z\nDTEND:20250101T103000Z\nRRULE:FREQ=DAILY"
    single = "UID:old\nDTSTART:20200101T100000Z\nDTEND:20200101T103000Z"
    run(store, write(tmp_path, "a.ics", ics(endless, single)), window=(date(2025, 3, 1), date(2025, 3, 3)))
    assert starts(store) == ["2020-01-01T10:00Z", "2025-03-01T10:00Z", "2025-03-02T10:00Z", "2025-03-03T10:00Z"]


def test_default_window_is_the_span_of_messages_already_stored(tmp_path, store):
    store.upsert("messages", [{"message_key": "m1", "channel": "email", "sent_utc": datetime(2025, 3, 10, 9)},
                              {"message_key": "m2", "channel": "email", "sent_utc": datetime(2025, 3, 12, 9)}])
    endless = "UID:endless\nDTSTART:20250101T100000Z\nDTEND:20250101T103000Z\nRRULE:FREQ=DAILY"
    run(store, write(tmp_path, "a.ics", ics(endless)))
    assert [s[:10] for s in starts(store)] == ["2025-03-10", "2025-03-11", "2025-03-12"]


def test_without_other_data_series_expand_a_year_around_the_files_events(tmp_path, store):
    endless = "UID:endless\nDTSTART:20250101T100000Z\nDTEND:20250101T103000Z\nRRULE:FREQ=WEEKLY"
    run(store, write(tmp_path, "a.ics", ics(endless)))
    got = starts(store)
    assert got[0] == "2025-01-01T10:00Z" and got[-1] == "2025-12-31T10:00Z"  # ends 2026-01-01 local


# -- people and responses ----------------------------------------------------------------
def meeting(attendees: dict[str, str], title: str = "Planning") -> str:
    lines = ["UID:shared-meeting", f"SUMMARY:{title}", "DTSTART:20250317T140000Z", "DTEND:20250317T150000Z",
             "ORGANIZER;CN=Test Person 01:mailto:user01@example.com"]
    lines += [f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT={p};CN=Test:mailto:{a}" for a, p in attendees.items()]
    return "\n".join(lines)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2)], ids=["organizer-first", "organizer-last",
                                                                         "mixed"])
def test_each_persons_own_response_wins_and_attendees_are_the_union(tmp_path, store, order):
    with_people(store)
    files = [
        write(tmp_path, "user01@example.com.ics", ics(meeting({"user02@example.com": "NEEDS-ACTION",
                                                                "user03@example.com": "NEEDS-ACTION"}))),
        write(tmp_path, "user02@example.com.ics", ics(meeting({"user02@example.com": "ACCEPTED"}, "Old title"))),
        write(tmp_path, "user03@example.com.ics", ics(meeting({"user02@example.com": "NEEDS-ACTION",
                                                                "user03@example.com": "DECLINED"}))),
    ]
    run(store, *[files[i] for i in order])
    assert store.con.execute("SELECT count(*), any_value(title) FROM meetings").fetchone() == (1, "Planning")
    responses = dict(store.con.execute("SELECT person_id, response FROM meeting_attendees").fetchall())
    assert responses == {"user01@example.com": "organizer", "user02@example.com": "accepted",
                         "user03@example.com": "declined"}


def test_organizer_row_is_marked_and_rooms_are_not_people(tmp_path, store):
    body = meeting({"user02@example.com": "TENTATIVE"}) + \
        "\nATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:room-4@example.com"
    run(store, write(tmp_path, "a.ics", ics(body)))
    rows = store.con.execute("SELECT person_id, response, is_organizer FROM meeting_attendees ORDER BY 1").fetchall()
    assert rows == [("user01@example.com", "organizer", True), ("user02@example.com", "tentative", False)]


@pytest.mark.parametrize(("how", "name", "header", "kw"), [
    ("file-name", "user02@example.com.ics", "", {}),
    ("file-name-local-part", "user02.ics", "", {}),
    ("x-wr-calname", "calendar.ics", "X-WR-CALNAME:user02@example.com", {}),
    ("--owner", "calendar.ics", "", {"owner": "USER02@example.com"}),
])
def test_whose_calendar_a_file_is(tmp_path, store, how, name, header, kw):
    with_people(store)
    body = meeting({"user02@example.com": "ACCEPTED", "user03@example.com": "NEEDS-ACTION"})
    (summary,) = run(store, write(tmp_path, name, ics(body, header=header)), **kw)
    assert any("owner user02@example.com" in n for n in summary.notes)


def test_transparent_and_outlook_free_events_are_transparent(tmp_path, store):
    free = "UID:free\nDTSTART:20250317T140000Z\nDTEND:20250317T150000Z\nX-MICROSOFT-CDO-BUSYSTATUS:FREE"
    transp = "UID:transp\nDTSTART:20250317T140000Z\nDTEND:20250317T150000Z\nTRANSP:TRANSPARENT"
    busy = "UID:busy\nDTSTART:20250317T140000Z\nDTEND:20250317T150000Z\nX-MICROSOFT-CDO-BUSYSTATUS:OOF"
    run(store, write(tmp_path, "a.ics", ics(free, transp, busy)))
    rows = dict((u, (t, s)) for u, t, s in store.con.execute("SELECT uid, transp, show_as FROM meetings").fetchall())
    assert rows == {"free": ("transparent", "free"), "transp": ("transparent", "free"), "busy": ("opaque", "oof")}


def test_an_instance_invitation_joins_the_organizers_series(tmp_path, store):
    series = DAILY + "\nORGANIZER:mailto:user01@example.com\nATTENDEE;PARTSTAT=ACCEPTED:mailto:user01@example.com"
    instance = """UID:daily
    RECURRENCE-ID:20250305T100000Z
    DTSTART:20250305T100000Z
    DTEND:20250305T101500Z
    ORGANIZER:mailto:user01@example.com
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:user02@example.com"""
    run(store, write(tmp_path, "user01@example.com.ics", ics(series)),
        write(tmp_path, "user02@example.com.ics", ics(instance)))
    assert store.count("meetings") == 5
    keys = store.con.execute("SELECT meeting_key FROM meeting_attendees WHERE person_id = 'user02@example.com'").fetchall()
    assert keys == [("daily|2025-03-05T10:00:00Z",)]


# -- idempotency and nothing lost --------------------------------------------------------
def snapshot(store) -> dict[str, list]:
    return {t: store.con.execute(f"SELECT * EXCLUDE (first_seen_utc) FROM {t} ORDER BY ALL").fetchall()
            if t == "quarantine" else store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("meetings", "meeting_attendees", "quarantine")}


def test_ingesting_twice_changes_nothing(tmp_path, store):
    with_people(store)
    write(tmp_path, "user01@example.com.ics", ics(WEEKLY_BERLIN, meeting({"user02@example.com": "ACCEPTED"})))
    write(tmp_path, "user02@example.com.ics", ics(meeting({"user02@example.com": "DECLINED"})))
    write(tmp_path, "junk.ics", b"\x00\x01\x02 not a calendar")
    run(store, tmp_path)
    first = snapshot(store)
    (again,) = run(store, tmp_path)
    assert snapshot(store) == first
    assert again.inserted == 0


@pytest.mark.parametrize(("content", "where", "reason"), [
    (b"", ":1", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ":1", "binary data"),
    (b"Subject: hello\r\n\r\nnot a calendar\r\n", ":1", "no BEGIN:VCALENDAR"),
    (ics(DAILY).encode()[:-40], ":4", "has no END:VEVENT"),
], ids=["empty", "binary-junk", "not-icalendar", "truncated"])
def test_unreadable_files_are_quarantined_with_a_clear_reason(tmp_path, store, content, where, reason):
    path = write(tmp_path, "bad.ics", content)
    (summary,) = run(store, path)
    rows = store.con.execute("SELECT location, reason FROM quarantine").fetchall()
    assert summary.quarantined == 1 and len(rows) == 1
    assert rows[0][0] == f"{path}{where}" and reason in rows[0][1]


@pytest.mark.parametrize("header", ["", "X-WR-TIMEZONE:Europe/Berlin"], ids=["plain", "google"])
def test_a_bad_event_is_quarantined_at_its_line_and_the_others_are_kept(tmp_path, store, header):
    bad_rule = "UID:bad\nDTSTART:20250303T100000Z\nDTEND:20250303T110000Z\nRRULE:FREQ=WEEKLY;UNTL=20250401"
    bad_end = "UID:bad-end\nDTSTART:20250303T100000Z\nDTEND:BROKEN"
    path = write(tmp_path, "a.ics", ics(DAILY, bad_rule, bad_end, header=header))
    shift = 1 if header else 0  # the header line moves every event down
    (summary,) = run(store, path)
    assert store.count("meetings") == 5
    rows = store.con.execute("SELECT location, reason FROM quarantine ORDER BY location").fetchall()
    assert [r[0] for r in rows] == [f"{path}:{11 + shift}", f"{path}:{17 + shift}"]
    assert "UNTIL" in rows[0][1] or "UNTL" in rows[0][1]
    assert "DTEND" in rows[1][1]


def test_a_missing_folder_is_a_clear_error(tmp_path, store):
    from worklife.errors import IngestError

    with pytest.raises(IngestError, match="no such file"):
        ingest.run([str(tmp_path / "absent")], store, PARSED)


def test_ics_files_are_detected_by_name_or_content(tmp_path):
    from worklife.ingest import ics as adapter

    calendars, other = tmp_path / "calendars", tmp_path / "other"
    calendars.mkdir()
    other.mkdir()
    assert adapter.detect(write(calendars, "a.ics", ics(DAILY)))
    assert adapter.detect(write(other, "export", ics(DAILY)))  # no extension: told by content
    assert not adapter.detect(write(calendars, "notes.txt", "hello"))
    assert adapter.detect(calendars)  # .ics files and a notes.txt
    (calendars / "cur").mkdir()
    write(calendars / "cur", "1700000000.M1P1.host:2,S", "From: user01@example.com\r\n\r\nhi")
    assert not adapter.detect(calendars)  # a mixed folder belongs to no single adapter


@pytest.mark.parametrize("whole_file_max", [0, 10_000_000], ids=["units-of-a-file", "whole-files"])
def test_the_process_pool_gives_the_same_rows_as_one_process(tmp_path, monkeypatch, whole_file_max):
    from worklife.ingest import ics as adapter
    from worklife.ingest.base import IngestContext

    monkeypatch.setattr(adapter, "WHOLE_FILE_MAX", whole_file_max)

    for i in range(1, 4):
        write(tmp_path, f"user0{i}@example.com.ics",
              ics(WEEKLY_BERLIN, DAILY, meeting({"user02@example.com": "ACCEPTED"})))
    write(tmp_path, "junk.ics", b"\x00junk")

    def rows(workers: int) -> tuple[list, list]:
        config = Config()
        config.set("calendar.workers", workers)
        config.set("calendar.pool_min_bytes", 0)
        config.set("calendar.chunk_events", 1)
        meetings, quarantine = [], []
        for batch in adapter.read(tmp_path, IngestContext(config=config)):
            meetings += [tuple(sorted(m.items())) for m in batch.rows["meetings"]]
            quarantine += [q.location for q in batch.quarantine]
        return meetings, quarantine

    assert rows(2) == rows(1)


@pytest.mark.parametrize(("tzid", "timezones"), [
    ("W. Europe Standard Time", OUTLOOK_ZONE), ("W. Europe Standard Time", ""),
    ("Customized Time Zone", OUTLOOK_ZONE), ("Europe/Berlin", ""),
], ids=["windows-with-vtimezone", "windows-name-only", "custom-vtimezone", "iana"])
def test_single_events_read_windows_custom_and_iana_zones(tmp_path, store, tzid, timezones):
    zones = timezones.replace("TZID:W. Europe Standard Time", f"TZID:{tzid}")
    winter = f"UID:winter\nDTSTART;TZID={tzid}:20250317T090000\nDTEND;TZID={tzid}:20250317T100000"
    summer = f"UID:summer\nDTSTART;TZID={tzid}:20250331T090000\nDTEND;TZID={tzid}:20250331T100000"
    run(store, write(tmp_path, "a.ics", ics(winter, summer, timezones=zones)))
    assert starts(store) == ["2025-03-17T08:00Z", "2025-03-31T07:00Z"]


def test_an_unforeseen_failure_quarantines_the_events_instead_of_ending_the_run(tmp_path, store, monkeypatch):
    from worklife.ingest import ics as adapter

    def broken(job, ctx):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(adapter, "process", broken)
    path = write(tmp_path, "a.ics", ics(DAILY, WEEKLY_BERLIN))
    (summary,) = run(store, path)
    rows = store.con.execute("SELECT location, reason FROM quarantine ORDER BY location").fetchall()
    assert [r[0] for r in rows] == [f"{path}:11", f"{path}:4"]
    assert all("simulated bug" in r[1] for r in rows) and summary.quarantined == 2


def test_an_impossible_date_is_quarantined_and_does_not_break_the_window(tmp_path, store):
    bad = "UID:bad-date\nDTSTART:20251340T100000Z\nDTEND:20251340T110000Z"
    path = write(tmp_path, "a.ics", ics(DAILY, bad))
    (summary,) = run(store, path)
    assert store.count("meetings") == 5 and summary.quarantined == 1
    assert store.con.execute("SELECT location FROM quarantine").fetchone() == (f"{path}:11",)


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-16"),
    lambda t: t.replace("\r\n", "\r").encode(),
    lambda t: t.replace("Standup", "Réunion").encode("cp1252"),
], ids=["utf-16", "old-mac-line-endings", "windows-1252"])
def test_other_encodings_and_line_endings_are_read(tmp_path, store, encode):
    run(store, write(tmp_path, "a.ics", encode(ics(DAILY))))
    assert store.count("meetings") == 5 and store.count("quarantine") == 0
