"""Slack exports: messages, threads, DMs, user zones; joins and edits are not messages."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.ingest.slack import ts_to_utc

PARSED = Config({"privacy.keep_titles": True})  # parser tests read titles as parsed (docs/privacy.md)

OLAKE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "slack" / "olake-export"


def q(store, sql):
    return store.con.execute(sql).fetchall()


USERS = [
    {"id": "U01", "name": "user01", "tz": "Europe/Paris", "profile": {"email": "user01@example.com",
                                                                     "real_name": "Test Person 01"}},
    {"id": "U02", "name": "user02", "tz": "Australia/Sydney", "profile": {"real_name": "Test Person 02"}},
    {"id": "U03", "name": "user03", "tz": "America/New_York", "profile": {"email": "user03@example.com"}},
    {"id": "B01", "name": "deploybot", "is_bot": True, "profile": {}},
]
CHANNELS = [{"id": "C01", "name": "general", "members": ["U01", "U02", "U03"]}]
DMS = [{"id": "D01", "members": ["U01", "U02"]}]
GENERAL = [
    {"type": "message", "user": "U01", "ts": "1711846800.000100", "thread_ts": "1711846800.000100",
     "text": "root"},  # 2024-03-31T01:00Z
    {"type": "message", "user": "U03", "ts": "1711846801.000000", "text": "not in a thread"},
    {"type": "message", "user": "U02", "ts": "1711846900.123456", "thread_ts": "1711846800.000100", "text": "reply"},
    {"type": "message", "subtype": "channel_join", "user": "U03", "ts": "1711846950.000000"},
    {"type": "message", "subtype": "message_changed", "ts": "1711846960.000000", "message": {}},
    {"type": "message", "subtype": "bot_message", "bot_id": "B01", "ts": "1711846970.000000", "text": "deployed"},
    {"type": "message", "user": "U03", "text": "no ts"},
]
DM = [{"type": "message", "user": "U02", "ts": "1711850000.000000", "text": "hi"}]


def write_export(root: Path) -> Path:
    (root / "general").mkdir(parents=True)
    (root / "D01").mkdir()
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "channels.json").write_text(json.dumps(CHANNELS))
    (root / "dms.json").write_text(json.dumps(DMS))
    (root / "general" / "2024-03-31.json").write_text(json.dumps(GENERAL))
    (root / "general" / "2024-04-01.json").write_text('[{"type": "message", "ts": ')  # cut short
    (root / "D01" / "2024-03-31.json").write_text(json.dumps(DM))
    return root


@pytest.fixture(params=["folder", "zip"])
def export(request, tmp_path) -> Path:
    root = write_export(tmp_path / "export")
    if request.param == "folder":
        return root
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in root.rglob("*.json"):
            zf.write(p, "workspace/" + p.relative_to(root).as_posix())  # zips often wrap a top folder
    return z


def test_ts_is_exact_to_the_microsecond():
    assert ts_to_utc("1711846900.123456").replace(tzinfo=None) == datetime(2024, 3, 31, 1, 1, 40, 123456)


def test_export_messages_threads_and_non_messages(store, export):
    [s] = ingest.run([export], store, PARSED)
    assert s.kind == "slack"
    assert (s.read, s.inserted, s.skipped, s.quarantined) == (9, 5, 2, 2)  # no-ts message + truncated file (read as one record)
    rows = {r[0]: r[1:] for r in q(store, "SELECT message_key, sender_id, thread_id, in_reply_to, is_auto, "
                                          "subject_or_channel FROM messages")}
    root, reply = "C01:1711846800.000100", "C01:1711846900.123456"
    assert rows[root] == ("user01@example.com", root, None, False, "general")
    assert rows[reply] == ("u02", root, root, False, "general")
    assert rows["C01:1711846801.000000"][1] is None  # not in a thread
    assert rows["C01:1711846970.000000"][0] is None and rows["C01:1711846970.000000"][3] is True  # a bot
    reasons = sorted(r[0] for r in q(store, "SELECT reason FROM quarantine"))
    assert reasons[0].startswith("invalid JSON") and reasons[1] == "message without ts"


def test_recipients_are_channel_members_or_dm_partners(store, export):
    ingest.run([export], store, PARSED)
    assert q(store, "SELECT person_id, kind FROM message_recipients WHERE message_key = 'C01:1711846800.000100' "
                    "ORDER BY 1") == [("u02", "channel-member"), ("user01@example.com", "channel-member"),
                                  ("user03@example.com", "channel-member")]  # every member, the sender too
    assert q(store, "SELECT person_id, kind FROM message_recipients WHERE message_key LIKE 'D01:%'") == [
        ("user01@example.com", "to")]


def test_users_give_zones_aliases_and_bots(store, export):
    ingest.run([export], store, PARSED)
    people = {r[0]: r[1:] for r in q(store, "SELECT person_id, tz, is_internal FROM people")}
    assert people["user01@example.com"] == ("Europe/Paris", True)
    assert people["u02"] == ("Australia/Sydney", True)
    assert "b01" not in people  # bots are not people
    assert ("U01", "user01@example.com") in q(store, "SELECT alias, person_id FROM person_aliases")


def test_a_people_file_zone_is_kept_and_a_missing_one_is_filled_from_slack(store, export, tmp_path):
    hr = tmp_path / "people.csv"
    hr.write_text("email,display_name,Time Zone\nuser01@example.com,Test Person 01,\n"
                  "user03@example.com,Test Person 03,Asia/Tokyo\n")
    ingest.run([export], store, PARSED, people=hr)
    assert q(store, "SELECT person_id, tz, display_name FROM people WHERE person_id LIKE 'user0%' ORDER BY 1") == [
        ("user01@example.com", "Europe/Paris", "Test Person 01"),  # filled from Slack
        ("user03@example.com", "Asia/Tokyo", "Test Person 03"),  # the HR zone wins
    ]


def test_reingest_changes_nothing(store, export):
    ingest.run([export], store, PARSED)
    before = {t: sorted(q(store, f"SELECT * FROM {t}"), key=repr) for t in ("messages", "message_recipients", "people")}
    [again] = ingest.run([export], store, PARSED)
    assert (again.inserted, again.duplicate) == (0, 5)
    assert {t: sorted(q(store, f"SELECT * FROM {t}"), key=repr) for t in before} == before


def test_slackdump_dump_layout(store, tmp_path):
    root = tmp_path / "dump"
    root.mkdir()
    (root / "users.json").write_text(json.dumps(USERS))
    (root / "C01.json").write_text(json.dumps({"channel_id": "C01", "name": "general", "messages": GENERAL[:3]}))
    [s] = ingest.run([root], store, PARSED)
    assert s.inserted == 3
    assert q(store, "SELECT DISTINCT subject_or_channel FROM messages") == [("general",)]


def test_olake_export(store):
    if not OLAKE.exists():
        pytest.skip("shared Slack export is absent")
    [s] = ingest.run([OLAKE], store, PARSED)
    assert s.quarantined == 0 and s.skipped >= 2  # bot_add / bot_remove are not messages
    assert s.inserted == store.count("messages") == s.read - s.skipped
    replies = q(store, "SELECT count(*), count(*) FILTER (WHERE thread_id = in_reply_to) FROM messages "
                       "WHERE in_reply_to IS NOT NULL")[0]
    assert replies[0] > 100 and replies[0] == replies[1]
    zones = dict(q(store, "SELECT tz, count(*) FROM people GROUP BY tz"))
    assert zones.get("Asia/Kolkata", 0) > 100 and zones.get("America/Los_Angeles", 0) > 0
    # every sender is a known user (alias) and every message has recipients
    assert q(store, "SELECT count(*) FROM messages m WHERE NOT EXISTS "
                    "(SELECT 1 FROM message_recipients r WHERE r.message_key = m.message_key)") == [(0,)]
