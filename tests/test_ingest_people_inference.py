"""Who is measured, and each person's zone from the best evidence (never their hours)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from conftest import shared_path
from worklife import ingest, metrics
from worklife.config import Config
from worklife.ingest.people_infer import fit_zone
from worklife.store import SCHEMA_VERSION, connect


def _offsets(zone: str, start: datetime, days: int) -> Counter:
    """(UTC hour, offset) pairs of one mail a day sent at 10:00 local in ``zone``."""
    z = ZoneInfo(zone)
    out: Counter = Counter()
    for d in range(days):
        local = (start + timedelta(days=d)).replace(hour=10, tzinfo=z)
        off = int(local.utcoffset().total_seconds())
        out[(local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None), off)] += 1
    return out


@pytest.mark.parametrize("zone", ["America/New_York", "America/Chicago", "Europe/London", "Australia/Sydney",
                                  "Asia/Kolkata"])
def test_zone_fitted_to_offsets_across_a_dst_change(zone):
    assert fit_zone(_offsets(zone, datetime(2024, 2, 1), 120))[0] == zone


def test_offsets_of_one_season_fit_the_preferred_zone_with_those_offsets():
    # -0600 all winter: Chicago and Mexico City both fit; the preferred (more populous) first
    assert fit_zone(_offsets("America/Chicago", datetime(2024, 1, 8), 30))[0] == "America/Chicago"


def _eml(folder: Path, name: str, sender: str, to: str, date: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"From: {sender}\nTo: {to}\nDate: {date}\nMessage-ID: <{name}@example.com>\n"
                               f"Subject: {name}\n\nbody\n")


def _mailbox(root: Path, offsets: dict[str, tuple[str, str]]) -> Path:
    """alice's Maildir: mail from each sender (winter and summer offsets), carol in copy once each."""
    n = 0
    for sender, (winter, summer) in offsets.items():
        for day, off in [(9, winter), (10, winter), (11, winter), (15, summer), (16, summer)]:
            month = "Jan" if day < 15 else "Jul"
            to = "alice@example.com, carol@example.com" if day == 9 else "alice@example.com"
            _eml(root / "inbox", f"m{n}", sender, to, f"Tue, {day} {month} 2024 10:00:00 {off}")
            n += 1
    return root


def test_senders_are_measured_receive_only_addresses_are_contacts(store, tmp_path):
    box = _mailbox(tmp_path / "box", {"bob@example.com": ("-0500", "-0400"),
                                      "erin@example.com": ("+0100", "+0200"),
                                      "frank@other.example": ("+0000", "+0100")})
    (s,) = ingest.run([box], store, Config())
    assert s.owner == "alice@example.com"
    people = {p: (m, why, tz, src) for p, m, why, tz, src in store.con.execute(
        "SELECT person_id, is_measured, measured_why, tz, tz_source FROM people").fetchall()}
    assert people["alice@example.com"][:2] == (True, "owner")
    assert people["bob@example.com"] == (True, "sent", "America/New_York", "mail-offsets")
    assert people["erin@example.com"] == (True, "sent", "Europe/Paris", "mail-offsets")
    assert people["carol@example.com"][:2] == (False, "contact")  # receives only
    assert people["frank@other.example"][:3] == (False, "contact", "Europe/London")  # external sender
    weeks = metrics.person_metrics(metrics.prepare(store, Config()))
    assert set(weeks.person_id) == {"alice@example.com", "bob@example.com", "erin@example.com"}


def test_measure_setting_widens_to_every_internal_address(store, tmp_path):
    box = _mailbox(tmp_path / "box", {"bob@example.com": ("-0500", "-0400")})
    ingest.run([box], store, Config({"ingest.measure": "internal"}))
    assert store.con.execute("SELECT measured_why FROM people WHERE person_id = 'carol@example.com'"
                             ).fetchall() == [("setting",)]


def test_normalised_dates_are_not_zone_evidence(store, tmp_path):
    box = _mailbox(tmp_path / "box", {f"user{i}@example.com": ("-0800", "-0700") for i in range(4)})
    notes: list[str] = []
    ingest.run([box], store, Config(), notes=notes)
    assert any("normalised" in n and "America/Los_Angeles" in n for n in notes)
    assert {r[0] for r in store.con.execute("SELECT DISTINCT tz_source FROM people").fetchall()} == {"default"}
    assert any("use the default zone UTC" in n for n in notes)


def test_people_file_rows_are_the_people_and_their_zone_wins(store, tmp_path):
    box = _mailbox(tmp_path / "box", {"bob@example.com": ("-0500", "-0400")})
    people = tmp_path / "people.csv"
    people.write_text("email,tz,work_start,work_end\nalice@example.com,Asia/Tokyo,08:00,16:00\n"
                      "bob@example.com,,,\n")
    ingest.run([box], store, Config(), people=people)
    rows = {p: (m, why, tz, src, ws) for p, m, why, tz, src, ws in store.con.execute(
        "SELECT person_id, is_measured, measured_why, tz, tz_source, work_start FROM people").fetchall()}
    assert rows["alice@example.com"] == (True, "people-file", "Asia/Tokyo", "people-file", "08:00")
    # no zone in the file: the mail he sent says New York; his hours stay the default, never inferred
    assert rows["bob@example.com"] == (True, "people-file", "America/New_York", "mail-offsets", None)
    assert rows["carol@example.com"][:2] == (False, "contact")


def test_changed_people_file_is_reported_as_updated(store, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email,tz\nalice@example.com,Europe/Paris\nbob@example.com,Europe/Paris\n")
    ingest.run([], store, Config(), people=people)
    people.write_text("email,tz\nalice@example.com,Europe/Paris\nbob@example.com,Asia/Tokyo\n")
    (s,) = ingest.run([], store, Config(), people=people)
    assert (s.inserted, s.updated, s.duplicate) == (0, 1, 1)


def test_slack_users_zone_comes_from_users_json(store):
    path = shared_path("data", "slack", "olake-export")
    ingest.run([path], store, Config())
    users = json.loads((path / "users.json").read_text())
    with_tz = {u["id"]: u["tz"] for u in users if u.get("tz") and not u.get("is_bot") and u["id"] != "USLACKBOT"}
    got = dict(store.con.execute(
        "SELECT a.alias, p.tz FROM people p JOIN person_aliases a ON a.person_id = p.person_id "
        "WHERE p.tz_source = 'slack'").fetchall())
    assert got == with_tz and len(got) > 0


@pytest.mark.parametrize(("folder", "owner", "measured"), [
    # checked by hand: 441 distinct non-automatic @enron.com senders (the owner among them)
    (("enron", "skilling-j"), "jeff.skilling@enron.com", 441),
    # a mailing-list archive: no owner, nothing internal, so its 16 distinct senders
    (("mail", "notmuch-default"), None, 16),
], ids=["skilling-j", "notmuch-default"])
def test_real_mailboxes_measured_people_without_a_people_file(store, folder, owner, measured):
    (s,) = ingest.run([shared_path("data", *folder)], store, Config())
    assert s.owner == owner
    assert store.con.execute("SELECT count(*) FROM people WHERE is_measured").fetchall()[0][0] == measured
    weeks = metrics.person_metrics(metrics.prepare(store, Config()))
    assert weeks.person_id.nunique() == measured


def test_store_of_schema_version_1_is_upgraded_when_opened(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_utc TIMESTAMP)")
    con.execute("INSERT INTO schema_version VALUES (1, NULL)")
    con.execute("CREATE TABLE people (person_id VARCHAR NOT NULL, email VARCHAR, display_name VARCHAR, "
                "tz VARCHAR, work_start VARCHAR, work_end VARCHAR, workdays VARCHAR, manager_id VARCHAR, "
                "team VARCHAR, level VARCHAR, jurisdiction VARCHAR, is_internal BOOLEAN NOT NULL DEFAULT TRUE, "
                "defaults_used VARCHAR, source VARCHAR, PRIMARY KEY (person_id))")
    con.execute("INSERT INTO people (person_id, tz) VALUES ('alice@example.com', 'Europe/Paris')")
    con.execute("CREATE TABLE messages (message_key VARCHAR NOT NULL, message_id VARCHAR, channel VARCHAR NOT NULL, "
                "sender_id VARCHAR, sent_utc TIMESTAMP NOT NULL, thread_id VARCHAR, in_reply_to VARCHAR, "
                "subject_or_channel VARCHAR, is_auto BOOLEAN NOT NULL DEFAULT FALSE, source VARCHAR, "
                "source_ref VARCHAR, PRIMARY KEY (message_key))")
    con.close()
    with connect(path) as s:
        assert s.con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
        assert s.con.execute("SELECT person_id, tz, tz_source, is_measured FROM people").fetchall() == [
            ("alice@example.com", "Europe/Paris", None, None)]
        assert "sent_offset_s" in [r[0] for r in s.con.execute("DESCRIBE messages").fetchall()]


def _slack(root: Path) -> Path:
    """A tiny Slack export: alice (Tokyo) posts, bob (Paris) is a member who never posts."""
    root.mkdir()
    users = [{"id": "U1", "name": "alice", "tz": "Asia/Tokyo", "profile": {"email": "alice@example.com"}},
             {"id": "U2", "name": "bob", "tz": "Europe/Paris", "profile": {"email": "bob@example.com"}}]
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general", "members": ["U1", "U2"]}]))
    (root / "general").mkdir()
    (root / "general" / "2024-01-09.json").write_text(json.dumps(
        [{"type": "message", "user": "U1", "text": "hello", "ts": "1704790800.000100"}]))
    return root


def test_slack_zone_kept_when_a_later_people_file_gives_none(store, tmp_path):
    ingest.run([_slack(tmp_path / "slack")], store, Config())
    assert store.con.execute("SELECT person_id, tz, tz_source, is_measured FROM people ORDER BY 1").fetchall() == [
        ("alice@example.com", "Asia/Tokyo", "slack", True), ("bob@example.com", "Europe/Paris", "slack", False)]
    people = tmp_path / "people.csv"
    people.write_text("email,tz,team\nalice@example.com,,Platform\nbob@example.com,Europe/Berlin,Platform\n")
    ingest.run([], store, Config(), people=people)
    assert store.con.execute("SELECT person_id, tz, tz_source, is_measured FROM people ORDER BY 1").fetchall() == [
        ("alice@example.com", "Asia/Tokyo", "slack", True), ("bob@example.com", "Europe/Berlin", "people-file", True)]
    (again,) = ingest.run([], store, Config(), people=people)
    assert (again.updated, again.duplicate) == (0, 2)


def test_policy_checks_measured_people_only_contacts_stay_recipients(store, tmp_path):
    """carol only receives: she is not a checked person (no finding names her), only a recipient."""
    from worklife.policy import check_report

    box = _mailbox(tmp_path / "box", {"bob@example.com": ("-0500", "-0400"),
                                      "erin@example.com": ("+0100", "+0200")})
    ingest.run([box], store, Config())
    result = check_report(store, Config(), "auto")
    named = {f.person_id for f in result.findings if f.person_id}
    assert "carol@example.com" not in named
    assert named <= {"alice@example.com", "bob@example.com", "erin@example.com"}
    assert "3 people" in str(result.meta) or result.meta.get("org_size") == 3, result.meta
