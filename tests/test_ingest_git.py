"""git history into outcomes: one commit each, author date exact in UTC, authors via aliases."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def make_repo(path: Path) -> Path:
    path.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_COMMITTER_NAME": "Test Person 09",
           "GIT_COMMITTER_EMAIL": "user09@example.com"}
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    commits = [("Test Person 01", "user01@example.com", "2024-03-31T01:30:00+01:00", "before the EU DST jump"),
               ("Test Person 02", "User02@Example.com", "2024-04-07T02:30:00+11:00", "Sydney, DST ends")]
    for i, (name, email, when, msg) in enumerate(commits):
        (path / f"f{i}").write_text(str(i))
        subprocess.run(["git", "-C", str(path), "add", "."], check=True, env=env)
        subprocess.run(["git", "-C", str(path), "commit", "-q", "-m", msg],
                       check=True, env={**env, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                                        "GIT_AUTHOR_DATE": when})
    return path


def test_commits_become_outcomes_in_utc(store, tmp_path):
    repo = make_repo(tmp_path / "repo")
    hr = tmp_path / "people.csv"
    hr.write_text("person_id,email,aliases\nE01,user01@example.com,\n")
    [_, s] = ingest.run([repo], store, Config(), people=hr)
    assert (s.kind, s.read, s.inserted) == ("git", 2, 2)
    rows = store.con.execute("SELECT person_id, at_utc, kind, title, length(ref) FROM outcomes ORDER BY at_utc").fetchall()
    assert rows == [("E01", datetime(2024, 3, 31, 0, 30), "commit", "before the EU DST jump", 40),
                    ("user02@example.com", datetime(2024, 4, 6, 15, 30), "commit", "Sydney, DST ends", 40)]
    [again] = ingest.run([repo], store, Config())
    assert (again.inserted, again.duplicate) == (0, 2)


def test_a_folder_that_is_not_a_repository_is_an_error(store, tmp_path):
    from worklife.errors import IngestError

    with pytest.raises(IngestError, match="git log failed"):
        ingest.run([tmp_path], store, Config(), kind="git")


def git(path: Path, *args: str, when: str = "2026-11-17T10:00:00+01:00", name: str = "Test Person 01",
        email: str = "user01@example.com") -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "-C", str(path), *args], check=True, env=env, capture_output=True)


def test_pull_requests_merges_squashes_links_and_mailmap(store, tmp_path):
    repo = tmp_path / "widgets"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "git@github.com:example-org/widgets.git")
    (repo / ".mailmap").write_text("Test Person 02 <user02@example.com> <old-address@example.com>\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Initial commit")
    git(repo, "checkout", "-q", "-b", "feature")
    for i, who in enumerate(("user02@example.com", "old-address@example.com")):
        (repo / f"f{i}").write_text(str(i))
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", f"Feature step {i}", name="Test Person 02", email=who)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #7 from user02/feature",
        "-m", "Add the feature")
    (repo / "typo").write_text("fixed")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Fix typo (#8)")
    [s] = ingest.run([repo], store, Config())
    assert (s.kind, s.read, s.quarantined) == ("git", 5, 0)
    prs = store.con.execute("SELECT ref, title, url, project FROM outcomes WHERE kind = 'pr_merged' ORDER BY ref").fetchall()
    assert prs == [("example-org/widgets#7", "Add the feature", "https://github.com/example-org/widgets/pull/7",
                    "example-org/widgets"),
                   ("example-org/widgets#8", "Fix typo", "https://github.com/example-org/widgets/pull/8",
                    "example-org/widgets")]
    linked = store.con.execute("""
        SELECT l.ref, c.title FROM outcomes l JOIN outcomes c ON c.kind = 'commit' AND c.ref = l.source_ref
        WHERE l.kind = 'pr_commit' ORDER BY 1, 2""").fetchall()
    assert linked == [("example-org/widgets#7", "Feature step 0"), ("example-org/widgets#7", "Feature step 1"),
                      ("example-org/widgets#7", "Merge pull request #7 from user02/feature"),
                      ("example-org/widgets#8", "Fix typo (#8)")]
    authors = store.con.execute("SELECT DISTINCT person_id FROM outcomes WHERE title LIKE 'Feature step%'").fetchall()
    assert authors == [("user02@example.com",)]  # the .mailmap folds the old address
    url = store.con.execute("SELECT url, ref FROM outcomes WHERE kind = 'commit' AND title = 'Fix typo (#8)'").fetchone()
    assert url[0] == f"https://github.com/example-org/widgets/commit/{url[1]}"
