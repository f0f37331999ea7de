"""Hostile and broken input: never a traceback, a hang, a lost good record or a poisoned store.

Every case of tests/_hostile.py is ingested with the CLI into a fresh store file, then:
exit 0 or 1 with one clear line, no traceback; the good records of the same source are
stored; the bad ones are quarantined at ``file:line`` (or ``file#id``) with the reason;
a second run changes nothing; a good mailbox ingested next into the same store is read.
"""

from __future__ import annotations

import os

import pytest
from _hostile import BY_ID, CASES, Case, good_mbox
from typer.testing import CliRunner

from worklife.cli import app
from worklife.store import connect

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, ["ingest", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def snapshot(db: str, table: str) -> tuple[int, list[tuple]]:
    with connect(db) as s:
        rows = s.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        quarantine = sorted(s.con.execute("SELECT location, reason, excerpt FROM quarantine").fetchall())
    return rows, quarantine


def needs(case: Case) -> None:
    if "fifo" in case.id and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_handled_and_the_store_takes_the_next_ingest(tmp_path, case):
    needs(case)
    src = case.build(tmp_path)
    db = str(tmp_path / "store.duckdb")
    first = cli(str(src), "--db", db, *case.args)
    assert first.exit_code == case.exit_code, first.output
    if case.exit_code:
        errors = [line for line in first.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and case.note in errors[0]
    elif case.note:
        assert case.note in first.stderr
    rows, quarantine = snapshot(db, case.table)
    assert rows == case.good
    if case.reason:
        hits = [q for q in quarantine if case.reason in q[1]]
        assert hits, quarantine
        for location, reason, excerpt in hits:
            assert location.startswith(str(src))  # the file (and line, member or id) inside the source
            assert src.is_file() or location != str(src)
            assert "Error" not in reason.split(":")[0]  # a sentence, not an exception name
            assert len(excerpt.encode()) <= 200
    # idempotent: the second run stores nothing new and quarantines nothing new
    again = cli(str(src), "--db", db, *case.args)
    assert again.exit_code == case.exit_code
    assert snapshot(db, case.table) == (rows, quarantine)
    # the store takes the next ingest
    nxt = cli(str(good_mbox(tmp_path)), "--db", db)
    assert nxt.exit_code == 0, nxt.output
    with connect(db) as s:
        assert s.con.execute("SELECT count(*) FROM messages WHERE source LIKE '%next.mbox'").fetchone()[0] == 3


def test_excerpts_never_hold_bytes_from_outside_the_source(tmp_path):
    src = BY_ID["maildir-symlink-outside"].build(tmp_path)
    db = str(tmp_path / "store.duckdb")
    cli(str(src), "--db", db)
    with connect(db) as s:
        dump = str(s.con.execute("SELECT * FROM quarantine").fetchall()) + str(
            s.con.execute("SELECT * FROM messages").fetchall())
    assert "SECRET-TOKEN" not in dump and "root@example.com" not in dump


def test_excerpts_are_short_and_redact_addresses(tmp_path):
    src = tmp_path / "bad.mbox"
    src.write_bytes(b"From a Tue Jan  2 10:00:00 2024\nFrom: carol@example.com\nSubject: " + b"y" * 1000
                    + b"\nDate: someday\n\nbody\n")
    db = str(tmp_path / "store.duckdb")
    cli(str(src), "--db", db)
    with connect(db) as s:
        (excerpt,) = s.con.execute("SELECT excerpt FROM quarantine").fetchone()
    assert "carol@example.com" not in excerpt and "<address>" in excerpt
    assert len(excerpt.encode()) <= 200


def test_every_recipient_of_a_huge_list_is_kept(tmp_path):
    db = str(tmp_path / "store.duckdb")
    cli(str(BY_ID["eml-100000-recipients"].build(tmp_path)), "--db", db)
    with connect(db) as s:
        assert s.con.execute("SELECT count(*) FROM message_recipients").fetchone()[0] == 100_000


def test_a_cut_recipient_list_is_noted(tmp_path):
    (tmp_path / "worklife.toml").write_text("[ingest]\nmax_recipients = 1000\n")
    db = str(tmp_path / "store.duckdb")
    out = cli(str(BY_ID["eml-100000-recipients"].build(tmp_path)), "--db", db,
              "--config", str(tmp_path / "worklife.toml"))
    assert "100,000 recipients, only the first 1,000 kept" in out.stderr
    with connect(db) as s:
        assert s.con.execute("SELECT count(*) FROM message_recipients").fetchone()[0] == 1000


def test_nul_and_control_characters_never_reach_the_store(tmp_path):
    db = str(tmp_path / "store.duckdb")
    (tmp_path / "worklife.toml").write_text("[privacy]\nkeep_titles = true\n")  # subjects kept as text
    cli(str(BY_ID["eml-nul-and-c1"].build(tmp_path)), "--db", db, "--config", str(tmp_path / "worklife.toml"))
    with connect(db) as s:
        key, subject = s.con.execute("SELECT message_key, subject_or_channel FROM messages").fetchone()
    assert key == "nul@example.com"
    assert subject == "cafe" or subject.startswith("caf") and not any(0x80 <= ord(c) <= 0x9F for c in subject)


def test_a_store_holding_far_future_instants_still_takes_an_ingest(tmp_path):
    """Stores written before the instant range existed: the offsets refresh must not fail on them."""
    db = str(tmp_path / "store.duckdb")
    with connect(db) as s:
        s.con.execute("INSERT INTO messages (message_key, channel, sent_utc) VALUES "
                      "('old-far', 'email', TIMESTAMP '9999-12-31 23:00:00'), "
                      "('old-early', 'email', TIMESTAMP '0001-01-01 00:00:00')")
    out = cli(str(good_mbox(tmp_path)), "--db", db)
    assert out.exit_code == 0, out.output
