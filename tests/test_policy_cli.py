"""`worklife check` and `worklife boundaries` from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from worklife.cli import app
from test_policy_support import boss_and_worker_store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wl.duckdb"
    boss_and_worker_store(path)
    return path


def run(*args):
    return CliRunner().invoke(app, list(args))


def test_check_json_lists_findings_with_evidence_and_meta(db, tmp_path):
    out = tmp_path / "findings.json"
    res = run("check", "--db", str(db), "--policy", "PT", "--format", "json", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["meta"]["people_checked"] == 2 and "not legal advice" in data["meta"]["disclaimer"]
    [f] = data["findings"]
    assert (f["rule"], f["person_id"], f["counterpart_id"], f["week"]) == \
        ("rtd.contact", "user02@example.com", "user01@example.com", "2025-W10")
    assert f["samples"][0]["local"] == "2025-03-04 22:00"


def test_check_table_and_presets(db):
    res = run("check", "--db", str(db), "--policy", "auto")
    assert res.exit_code == 0 and "high" in res.output and "2 people checked (PT: 2)" in " ".join(res.output.split())
    res = run("check", "--db", str(db), "--list-presets")
    assert res.exit_code == 0 and "CA-ON" in res.output and "EU-WTD" in res.output


@pytest.mark.parametrize("args, code, text", [
    (["--policy", "Narnia"], 1, "neither a preset"),
    ([], 2, "--policy is required"),
    (["--policy", "PT", "--by", "galaxy"], 2, "--by must be"),
], ids=["unknown-policy", "missing-policy", "bad-by"])
def test_check_errors_are_one_line(db, args, code, text):
    from worklife.cli import main
    with pytest.raises(SystemExit) as exc:
        main(["check", "--db", str(db), *args])
    assert exc.value.code == code


def test_boundaries_sender_view_and_pairs(db):
    res = run("boundaries", "--db", str(db), "--me", "user01@example.com")
    assert res.exit_code == 0
    assert "1 of your 2 messages arrived outside their recipients' hours" in res.output
    res = run("boundaries", "--db", str(db), "--view", "pair", "--format", "csv")
    assert res.exit_code == 0 and res.output.splitlines()[1].startswith("user01@example.com,user02@example.com,2,1")
