"""`worklife ingest` on bad input: one clear line, the right exit code, never a traceback."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.store import connect

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, ["ingest", *args])
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    return result


def good_mbox(path: Path) -> Path:
    box = mailbox.mbox(str(path))
    for i in range(3):
        m = mailbox.mboxMessage()
        m["From"], m["To"] = f"user0{i}@example.com", "user09@example.com"
        m["Date"], m["Message-ID"], m["Subject"] = f"Tue, 2 Jan 2024 1{i}:00:00 +0000", f"<g{i}@example.com>", "x"
        m.set_payload("body\n")
        box.add(m)
    box.close()
    return path


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "store.duckdb")


def test_ingest_twice_reports_duplicates_and_changes_nothing(tmp_path, db):
    box = good_mbox(tmp_path / "a.mbox")
    first = run(str(box), "--db", db)
    assert first.exit_code == 0 and "mbox" in first.output
    with connect(db) as s:
        before = sorted(s.con.execute("SELECT * FROM messages").fetchall())
    second = run(str(box), "--db", db)
    assert second.exit_code == 0
    cells = next(c for c in ([x.strip() for x in line.split("│")] for line in second.output.splitlines())
                 if len(c) > 3 and c[2] == "mbox")
    assert cells[3:8] == ["3", "0", "3", "0", "0"]  # read, inserted, duplicates, skipped, quarantined
    with connect(db) as s:
        assert sorted(s.con.execute("SELECT * FROM messages").fetchall()) == before
        assert s.count("ingest_log") == 2


@pytest.mark.parametrize("name, content, kind, code, message", [
    ("missing", None, "auto", 1, "no such file or folder"),
    ("empty.mbox", b"", "auto", 1, "empty mbox file: it holds no messages"),
    ("empty", b"", "auto", 1, "cannot tell what kind of export"),
    ("junk.bin", bytes(range(256)) * 40, "auto", 1, "cannot tell what kind of export"),
    ("junk.bin", bytes(range(256)) * 40, "mbox", 1, "not an mbox file"),
    ("junk.eml", b"\x00\x01" * 100, "eml", 1, "nothing could be read"),
    ("folder", "dir", "slack", 1, "no Slack JSON files"),
    ("notes.csv", b"a,b\n1,2\n", "auto", 1, "cannot tell what kind of export"),
], ids=["missing-folder", "empty-mbox", "empty-file", "binary-junk", "junk-as-mbox", "junk-as-eml",
        "empty-slack-folder", "unmapped-csv"])
def test_unreadable_sources_fail_with_one_clear_line(tmp_path, db, name, content, kind, code, message):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = run(str(path), "--db", db, "--kind", kind)
    assert result.exit_code == code
    assert message in result.stderr


def test_a_bad_source_next_to_a_good_one_does_not_fail_the_run(tmp_path, db):
    result = run(str(tmp_path / "missing"), str(good_mbox(tmp_path / "a.mbox")), "--db", db)
    assert result.exit_code == 0
    assert "no such file or folder" in result.stderr


def test_truncated_and_wrongly_encoded_mail_is_read_and_quarantined(tmp_path, db):
    box = tmp_path / "bad.mbox"
    box.write_bytes(b"From x Tue Jan  2 10:00:00 2024\nFrom: user01@example.com\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n"
                    b"Subject: Gr\xfc\xdfe\n\nbody\n\nFrom x Tue Jan  2 10:00:00 2024\nFrom: user02@example.com\nDa")
    toml = tmp_path / "worklife.toml"
    toml.write_text("[privacy]\nkeep_titles = true\n")  # the decoded subject itself, not its category
    result = run(str(box), "--db", db, "--config", str(toml))
    assert result.exit_code == 0
    assert "1 records quarantined" in result.stderr
    with connect(db) as s:
        assert s.con.execute("SELECT subject_or_channel FROM messages").fetchall() == [("Grüße",)]
        assert s.con.execute("SELECT location FROM quarantine").fetchall() == [(f"{box}:8",)]  # its "From " line


@pytest.mark.parametrize("args", [["--kind", "bogus"], ["--from", "2024-01-01"], ["--from", "soon", "--to", "x"],
                                  ["--from", "2024-02-01", "--to", "2024-01-01"]],
                         ids=["unknown-kind", "from-without-to", "bad-date", "to-before-from"])
def test_bad_usage_exits_2(tmp_path, db, args):
    result = run(str(good_mbox(tmp_path / "a.mbox")), "--db", db, *args)
    assert result.exit_code == 2
