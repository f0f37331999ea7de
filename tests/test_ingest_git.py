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
