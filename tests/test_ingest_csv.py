"""People (HR) and generic activity files: column aliases, authority, and bad rows quarantined."""

from __future__ import annotations

from datetime import datetime


from worklife import ingest
from worklife.config import Config

PEOPLE = """Employee ID,Email,Name,Manager Email,Department,Time Zone,Work Start,Work End,Workdays,Level,Country,Aliases
E01,User01@Example.com,Test Person 01,,Leadership,Europe/Paris,08:00,16:00,Mon-Fri,L5,FR,u01;user01@old.example
E02,user02@example.com,Test Person 02,user01@example.com,Platform,W. Europe Standard Time,09:00,17:00,Sun-Thu,L3,DE,
E03,user03@example.com,Test Person 03,user01@example.com,Platform,Mars/Olympus,09:00,17:00,Mon-Fri,L3,FR,
,,Test Person 04,,,UTC,,,,,,
"""


def q(store, sql):
    return store.con.execute(sql).fetchall()


def test_people_file_with_header_aliases(store, tmp_path):
    f = tmp_path / "hr.csv"
    f.write_text(PEOPLE)
    [s] = ingest.run([f], store, Config())
    assert (s.kind, s.read, s.inserted, s.quarantined) == ("csv", 4, 2, 2)
    rows = q(store, "SELECT person_id, email, tz, work_start, workdays, manager_id, team, jurisdiction, is_internal "
                    "FROM people ORDER BY 1")
    assert rows == [
        ("E01", "user01@example.com", "Europe/Paris", "08:00", "Mon-Fri", None, "Leadership", "FR", True),
        ("E02", "user02@example.com", "Europe/Berlin", "09:00", "Sun-Thu", "E01", "Platform", "DE", True),
    ]
    aliases = dict(q(store, "SELECT alias, person_id FROM person_aliases"))
    assert aliases == {"user01@example.com": "E01", "u01": "E01", "user01@old.example": "E01",
                       "user02@example.com": "E02"}
    bad = dict(q(store, "SELECT location, reason FROM quarantine"))
    assert bad == {f"{f}:4": "unknown time zone 'Mars/Olympus'", f"{f}:5": "no person_id and no email"}


def test_people_rows_are_authoritative_over_what_mail_inferred(store, tmp_path):
    eml = tmp_path / "a.eml"
    eml.write_text("From: Someone <user02@example.com>\nTo: user01@example.com\nDate: 1 Jan 2024 09:00 +0000\n"
                   "Subject: hi\n\n")
    f = tmp_path / "hr.csv"
    f.write_text(PEOPLE)
    ingest.run([eml], store, Config())
    assert q(store, "SELECT is_internal FROM people WHERE person_id = 'user02@example.com'") == [(False,)]
    ingest.run([], store, Config(), people=f)
    # what mail said about the address is replaced by the HR person, everywhere
    assert q(store, "SELECT person_id, is_internal, display_name FROM people WHERE person_id LIKE '%02%'") == [
        ("E02", True, "Test Person 02")]
    assert q(store, "SELECT sender_id FROM messages") == [("E02",)]
    assert q(store, "SELECT person_id FROM message_recipients") == [("E01",)]


def test_people_file_first_then_mail_resolves_aliases(store, tmp_path):
    f = tmp_path / "hr.csv"
    f.write_text(PEOPLE)
    eml = tmp_path / "a.eml"
    eml.write_text("From: user01@old.example\nTo: USER02@example.com\nDate: 1 Jan 2024 09:00 +0000\nSubject: hi\n\n")
    ingest.run([eml], store, Config(), people=f)
    assert q(store, "SELECT sender_id FROM messages") == [("E01",)]
    assert q(store, "SELECT person_id FROM message_recipients") == [("E02",)]


ACTIVITY = """kind,id,start,end,sent,sender,recipients,cc,subject,tz
meeting,m1,2024-03-31T09:00:00+02:00,2024-03-31T10:00:00+02:00,,user01@example.com,user02@example.com;user03@example.com,,Planning,
email,e1,,,2024-03-30 23:30:00,user01@example.com,user02@example.com,user03@example.com,Budget,Australia/Sydney
chat,c1,,,2024-03-30T12:00:00Z,user02@example.com,user01@example.com,,#general,
chat,c2,,,2024-03-30 12:00:00,user02@example.com,user01@example.com,,#general,
fax,f1,,,2024-03-30T12:00:00Z,user02@example.com,user01@example.com,,,
meeting,m2,2024-03-31T11:00:00Z,2024-03-31T10:00:00Z,,user01@example.com,user02@example.com,,Backwards,
"""


def test_activity_file_into_meetings_and_messages(store, tmp_path):
    f = tmp_path / "activity.csv"
    f.write_text(ACTIVITY)
    [s] = ingest.run([f], store, Config())
    assert (s.read, s.inserted, s.quarantined) == (6, 3, 3)
    assert q(store, "SELECT start_utc, end_utc, organizer_id, title FROM meetings") == [
        (datetime(2024, 3, 31, 7), datetime(2024, 3, 31, 8), "user01@example.com", "Planning")]
    assert q(store, "SELECT person_id, response FROM meeting_attendees ORDER BY 1") == [
        ("user01@example.com", "organizer"), ("user02@example.com", "needs-action"),
        ("user03@example.com", "needs-action")]
    # a local time with the row's zone: 23:30 in Sydney (UTC+11 on 30 March 2024) is 12:30 UTC
    assert q(store, "SELECT channel, sent_utc FROM messages ORDER BY 1") == [
        ("chat", datetime(2024, 3, 30, 12)), ("email", datetime(2024, 3, 30, 12, 30))]
    assert q(store, "SELECT person_id, kind FROM message_recipients WHERE message_key = 'e1' ORDER BY 2") == [
        ("user03@example.com", "cc"), ("user02@example.com", "to")]
    reasons = sorted(r[0] for r in q(store, "SELECT reason FROM quarantine"))
    assert "end before start" in reasons[0] and "no UTC offset" in reasons[1] and "unknown kind" in reasons[2]


def test_activity_json_lines(store, tmp_path):
    f = tmp_path / "activity.jsonl"
    f.write_text('{"kind": "email", "id": "e9", "sent": "2024-01-02T09:00:00+01:00", "sender": "user01@example.com",'
                 ' "recipients": ["user02@example.com"], "subject": "x"}\nnot json\n')
    [s] = ingest.run([f], store, Config())
    assert (s.inserted, s.quarantined) == (1, 1)
    assert q(store, "SELECT location FROM quarantine") == [(f"{f}:2",)]


def test_latin1_people_file_is_read(store, tmp_path):
    f = tmp_path / "hr.csv"
    f.write_bytes("email,name\nuser05@example.com,Test Persön 05\n".encode("latin-1"))
    [s] = ingest.run([f], store, Config())
    assert s.inserted == 1
    assert q(store, "SELECT display_name FROM people") == [("Test Persön 05",)]
