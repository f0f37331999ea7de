"""The event tables without a primary-key index (schema 3): the write path keeps keys unique.

Oracle: what the keyed tables did before (ON CONFLICT on the primary key) — re-ingesting
changes nothing, ``update`` overwrites, one row per natural key — and, after a migration
from schema 2, the same rows as before it.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from worklife import ingest
from worklife.config import Config
from worklife.errors import StoreError
from worklife.store import SCHEMA_VERSION, TABLES, UNINDEXED, connect

MSG = {"message_key": "m1", "channel": "email", "sender_id": "alice@example.com",
       "sent_utc": datetime(2025, 3, 3, 9, 0), "subject_or_channel": "hello"}
RCPT = [{"message_key": "m1", "person_id": "bob@example.com", "kind": "to"},
        {"message_key": "m1", "person_id": "carol@example.com", "kind": "cc"}]


def q(store, sql):
    return store.con.execute(sql).fetchall()


def keys_unique(store, table: str) -> bool:
    keys = ", ".join(TABLES[table][1])
    return q(store, f"SELECT count(*) = count(DISTINCT ({keys})) FROM {table}")[0][0]


def test_event_tables_have_no_primary_key_and_the_others_keep_theirs(store):
    keyed = {r[0] for r in q(store, "SELECT table_name FROM duckdb_constraints() "
                                    "WHERE constraint_type = 'PRIMARY KEY'")}
    assert UNINDEXED == {"meetings", "meeting_attendees", "messages", "message_recipients"}
    assert keyed.isdisjoint(UNINDEXED)
    assert {"people", "person_aliases", "outcomes", "ingest_log", "quarantine", "tz_offsets"} <= keyed


def test_upsert_into_unindexed_tables_twice_changes_nothing(store):
    assert store.upsert("messages", [MSG]) == (1, 0)
    assert store.upsert("message_recipients", RCPT) == (2, 0)
    assert store.upsert("messages", [MSG]) == (0, 1)
    assert store.upsert("message_recipients", RCPT + [{"message_key": "m1", "person_id": "erin@example.com",
                                                       "kind": "to"}]) == (1, 2)
    assert store.count("messages") == 1 and store.count("message_recipients") == 3
    # a new message's recipients (no stored row shares the message key: one-column check) ...
    assert store.upsert("message_recipients", [{**RCPT[0], "message_key": "m2"}]) == (1, 0)
    # ... and a batch mixing a new message with a stored recipient row (full-key check)
    assert store.upsert("message_recipients", [RCPT[1], {**RCPT[1], "message_key": "m3"}]) == (1, 1)
    assert store.count("message_recipients") == 5 and keys_unique(store, "message_recipients")


def test_upsert_update_overwrites_a_present_row_of_an_unindexed_table(store):
    store.upsert("messages", [MSG])
    store.upsert("messages", [{**MSG, "subject_or_channel": "changed"}])  # insert-only: kept
    assert q(store, "SELECT subject_or_channel FROM messages") == [("hello",)]
    assert store.upsert("messages", [{**MSG, "subject_or_channel": "changed"},
                                     {**MSG, "message_key": "m2"}], update=True) == (1, 1)
    assert q(store, "SELECT message_key, subject_or_channel FROM messages ORDER BY 1") == [
        ("m1", "changed"), ("m2", "hello")]


def test_repeated_keys_in_one_batch_count_once_the_last_wins(store):
    rows = [{"meeting_key": "k1", "person_id": "bob@example.com", "response": "accepted"},
            {"meeting_key": "k1", "person_id": "bob@example.com", "response": "declined"}]
    assert store.upsert("meeting_attendees", rows) == (1, 0)
    assert q(store, "SELECT response FROM meeting_attendees") == [("declined",)]


def test_insert_into_an_unindexed_table_refuses_a_key_repeated_in_the_batch(store):
    rows = pa.Table.from_pylist(RCPT + RCPT[:1])
    with pytest.raises(StoreError, match="already present"):
        store.insert("message_recipients", rows)
    assert store.count("message_recipients") == 0
    assert store.insert("message_recipients", pa.Table.from_pylist(RCPT)) == 2


def test_reingesting_the_same_mail_and_calendar_changes_nothing(store, tmp_path):
    eml = tmp_path / "a.eml"
    eml.write_text("From: alice@example.com\nTo: bob@example.com, carol@example.com\nCc: erin@example.com\n"
                   "Date: 1 Jan 2024 09:00 +0000\nMessage-ID: <a1@example.com>\nSubject: hi\n\n")
    ics = tmp_path / "cal.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1@example.com\r\n"
                   "DTSTART:20240102T090000Z\r\nDTEND:20240102T100000Z\r\nSUMMARY:Sync\r\n"
                   "ORGANIZER:mailto:alice@example.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com\r\n"
                   "ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    ingest.run([eml, ics], store, Config())
    before = {t: sorted(q(store, f"SELECT * FROM {t}")) for t in UNINDEXED}
    assert len(before["message_recipients"]) == 3 and before["meeting_attendees"]
    again = ingest.run([eml, ics], store, Config())
    assert sum(s.inserted for s in again) == 0
    assert {t: sorted(q(store, f"SELECT * FROM {t}")) for t in UNINDEXED} == before
    assert all(keys_unique(store, t) for t in UNINDEXED)


def test_relinking_two_addresses_of_one_person_keeps_one_row_per_key(store, tmp_path):
    """Both addresses received the message: after the people file joins them, E01 is one recipient."""
    eml = tmp_path / "a.eml"
    eml.write_text("From: user02@example.com\nTo: user01@example.com, user01@old.example\n"
                   "Date: 1 Jan 2024 09:00 +0000\nSubject: hi\n\n")
    hr = tmp_path / "hr.csv"
    hr.write_text("Employee ID,Email,Time Zone,Aliases\nE01,user01@example.com,Europe/Paris,user01@old.example\n")
    ingest.run([eml], store, Config())
    assert len(q(store, "SELECT * FROM message_recipients")) == 2
    ingest.run([], store, Config(), people=hr)
    assert q(store, "SELECT person_id, kind FROM message_recipients") == [("E01", "to")]


def _v2_store(path) -> None:
    """A store as schema version 2 wrote it: every table with its primary key, some rows."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_utc TIMESTAMP)")
    con.execute("INSERT INTO schema_version VALUES (2, NULL)")
    for table, (cols, key) in TABLES.items():
        con.execute(f"CREATE TABLE {table} ({cols}, PRIMARY KEY ({', '.join(key)}))")
    con.execute("INSERT INTO messages (message_key, channel, sender_id, sent_utc) VALUES "
                "('m1', 'email', 'alice@example.com', '2025-03-03 09:00:00')")
    con.execute("INSERT INTO message_recipients VALUES ('m1', 'bob@example.com', 'to'), "
                "('m1', 'carol@example.com', 'cc')")
    con.execute("INSERT INTO meetings (meeting_key, uid, recurrence_id, start_utc, end_utc, all_day, status, "
                "transp, is_recurring) VALUES ('k1|', 'k1', '', '2025-03-03 09:00:00', '2025-03-03 10:00:00', "
                "false, 'confirmed', 'opaque', false)")
    con.execute("INSERT INTO meeting_attendees (meeting_key, person_id, response) VALUES "
                "('k1|', 'bob@example.com', 'accepted')")
    con.close()


def test_store_of_schema_version_2_migrates_keeping_rows_and_unique_keys(tmp_path):
    path = tmp_path / "v2.duckdb"
    _v2_store(path)
    with connect(path) as s:
        assert q(s, "SELECT max(version) FROM schema_version")[0][0] == SCHEMA_VERSION == 3
        assert q(s, "SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
                    f"AND table_name IN {tuple(sorted(UNINDEXED))}")[0][0] == 0
        assert sorted(q(s, "SELECT * FROM message_recipients")) == [
            ("m1", "bob@example.com", "to"), ("m1", "carol@example.com", "cc")]
        assert q(s, "SELECT message_key, sender_id, is_auto FROM messages") == [("m1", "alice@example.com", False)]
        assert s.count("meetings") == 1 and s.count("meeting_attendees") == 1
        # the columns keep their NOT NULL and DEFAULT constraints
        with pytest.raises(duckdb.ConstraintException):
            s.con.execute("INSERT INTO message_recipients VALUES ('m2', NULL, 'to')")
        assert s.upsert("message_recipients", RCPT) == (0, 2)
    with connect(path) as s:  # reopening (version 3) neither migrates again nor adds a key
        assert q(s, "SELECT count(*) FROM schema_version WHERE version = 3")[0][0] == 1
        assert s.count("message_recipients") == 2 and keys_unique(s, "message_recipients")
