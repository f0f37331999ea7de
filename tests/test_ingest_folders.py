"""A folder of mixed exports (as `worklife synth` writes them) is ingested whole, every entry accounted for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import shared_path
from worklife import ingest
from worklife.config import Config
from worklife.ingest.folders import plan

synth = pytest.importorskip("worklife.synth")


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    org = synth.generate(people=48, weeks=1, seed=5, start=date(2025, 3, 3))
    out = tmp_path_factory.mktemp("synth")
    synth.write(org, out, mail_format="maildir", ground_truth=True)
    (out / "notes.txt").write_text("exported by hand\n")
    return out


def test_synth_folder_is_split_into_its_exports(synth_dir):
    parts = {p.path.name: p for p in plan(synth_dir, ingest._quiet_kind)}
    assert {n: p.kind for n, p in parts.items() if p.kind} == {
        "calendars": "ics", "git": "git", "mail": "maildir", "people.csv": "csv", "slack": "slack"}
    skipped = {n for n, p in parts.items() if p.kind is None}
    assert skipped == {"ground_truth.parquet", "planted.json", "notes.txt"}
    assert all(p.reason for p in parts.values() if p.kind is None)


def test_synth_folder_ingested_whole_equals_its_parts_ingested_one_by_one(synth_dir, tmp_path):
    from worklife.store import connect

    cfg = Config({"privacy.key_file": str(tmp_path / "pseudonym.key")})  # one key: the same subject hashes
    with connect(":memory:") as whole, connect(":memory:") as parts:
        summaries = ingest.run([synth_dir], whole, cfg)
        ingest.run([synth_dir / n for n in ("mail", "slack", "git", "calendars")], parts, cfg,
                   people=synth_dir / "people.csv")
        kinds = sorted(s.kind for s in summaries)
        assert kinds == ["csv", "git", "ics", "maildir", "skipped", "skipped", "skipped", "slack"]
        assert all(s.error is None for s in summaries)
        for table in ("people", "messages", "meetings", "meeting_attendees", "outcomes"):
            q = f"SELECT * EXCLUDE (source) FROM {table} ORDER BY ALL"
            assert whole.con.execute(q).fetchall() == parts.con.execute(q).fetchall(), table
        # the people file came first: every row of it is measured, nobody else
        assert whole.con.execute("SELECT count(*) FROM people WHERE is_measured").fetchall()[0][0] == 48


@pytest.mark.parametrize("folder", [("enron", "skilling-j"), ("mail", "notmuch-default"), ("slack", "olake-export"),
                                    ("git", "httpx.git")], ids=lambda f: f[-1])
def test_one_export_is_not_split(folder):
    path = shared_path("data", *folder)
    assert plan(path, ingest._quiet_kind) is None
    assert ingest.detect_kind(path) == {"skilling-j": "maildir", "notmuch-default": "maildir",
                                        "olake-export": "slack", "httpx.git": "git"}[folder[-1]]


def test_without_the_people_file_zones_come_from_the_exports(synth_dir, tmp_path):
    """Oracle: the synth people file. Without it, each measured person's zone (Slack, their calendar's
    X-WR-TIMEZONE, else the offsets of the mail they sent) keeps the planted zone's UTC offsets."""
    import csv
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from worklife.store import connect

    truth = {r["person_id"]: r["tz"] for r in csv.DictReader((synth_dir / "people.csv").open())}
    with connect(":memory:") as store:
        notes: list[str] = []
        ingest.run([synth_dir / n for n in ("mail", "slack", "calendars")], store, Config(), notes=notes)
        rows = store.con.execute("SELECT person_id, tz, tz_source FROM people WHERE is_measured").fetchall()
    assert {p for p, _, _ in rows} == set(truth)  # everyone sends or organises: all measured
    hours = [datetime(2025, 3, 3) + timedelta(hours=h) for h in range(0, 24 * 7, 5)]
    for person, tz, source in rows:
        if not truth[person]:  # planted without a zone: nothing to infer it from but evidence
            continue
        assert source in ("slack", "calendar", "mail-offsets"), person
        assert [ZoneInfo(tz).utcoffset(t) for t in hours] == [ZoneInfo(truth[person]).utcoffset(t) for t in hours]
    assert any(line.startswith("people: 48 measured") for line in notes)


def test_cli_summary_accounts_for_every_entry_and_says_the_defaults(synth_dir, tmp_path):
    from typer.testing import CliRunner

    from worklife.cli import app

    result = CliRunner().invoke(app, ["ingest", str(synth_dir), "--db", str(tmp_path / "s.duckdb")],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    kinds = [cells[1].strip() for cells in (line.split("│")[1:] for line in out.splitlines()) if len(cells) > 2]
    assert sorted(k for k in kinds if k) == ["csv", "git", "ics", "maildir", "skipped", "skipped", "skipped", "slack"]
    flat = " ".join(out.split())
    assert "notes.txt: a .txt file that is not an export worklife reads" in flat
    assert "planted.json: a .json file that is not an export worklife reads" in flat
    assert "people: 48 measured" in flat and "use the default zone UTC" in flat


def test_bare_clone_without_refs_folder_is_read_as_git(tmp_path):
    """A bare clone copied without its empty refs/ folder (as ../shared/data/git/httpx.git is):
    git itself refuses it; it is read through a shadow git folder, and never taken for a Maildir."""
    import shutil
    import subprocess

    from worklife.store import connect

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "work"
    env = {"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.com", "GIT_COMMITTER_NAME": "Alice",
           "GIT_COMMITTER_EMAIL": "alice@example.com", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "init", "-q", str(work)], check=True, env=env)
    for i in range(2):
        (work / "f").write_text(str(i))
        subprocess.run(["git", "-C", str(work), "add", "f"], check=True, env=env)
        subprocess.run(["git", "-C", str(work), "commit", "-qm", f"c{i}"], check=True, env=env)
    bare = tmp_path / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True, env=env)
    subprocess.run(["git", "--git-dir", str(bare), "pack-refs", "--all"], check=True, env=env)
    shutil.rmtree(bare / "refs")
    assert ingest.detect_kind(bare) == "git"
    with connect(":memory:") as store:
        (s,) = ingest.run([bare], store, Config())
        assert s.error is None and s.inserted == 2
    assert not (bare / "refs").exists()  # nothing written to the source


def test_a_folder_around_one_export_is_read_one_level_down(synth_dir, tmp_path):
    """``exports/slack/<workspace export>``: the wrapper is no export itself, so the export
    inside it is read (it used to be skipped as "a folder with no export")."""
    import shutil

    wrapper = tmp_path / "slack"
    shutil.copytree(synth_dir / "slack", wrapper / "workspace-export")
    assert [(p.path.name, p.kind) for p in plan(wrapper, ingest._quiet_kind)] == [("workspace-export", "slack")]
    from worklife.store import connect

    with connect(":memory:") as store:
        (s,) = ingest.run([wrapper], store, Config())
        assert s.kind == "slack" and s.error is None and s.inserted > 0


def test_a_folder_holding_a_bare_git_repository_is_not_a_maildir(tmp_path):
    """``exports/git/repo.git``: the files of a bare repository (packed refs, hooks, the
    description) are never read as mail messages."""
    repo = tmp_path / "git" / "repo.git"
    (repo / "objects").mkdir(parents=True)
    (repo / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / "packed-refs").write_text("# pack-refs with: peeled fully-peeled sorted\n")
    (repo / "description").write_text("From: not a mail\nSubject: still not\n\nbody\n")
    assert ingest._quiet_kind(tmp_path / "git") is None
