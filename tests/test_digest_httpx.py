"""The digest on a real history: the httpx repository in ../shared/data/git (skipped when absent).

Oracles are the repository itself, read with plain ``git log`` here, independently of the adapter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worklife import ingest
from worklife.config import Config
from worklife.digest import build_digest, render
from worklife.store import connect

SHARED = Path(os.environ.get("WORKLIFE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
REPO = SHARED / "data" / "git" / "httpx.git"
pytestmark = pytest.mark.skipif(not REPO.is_dir() or shutil.which("git") is None,
                                reason="../shared/data/git/httpx.git or git not available")
WEEK = "2019-W49"
NOW = datetime(2019, 12, 9, 10, 0, tzinfo=UTC)
BASE = "https://github.com/encode/httpx"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("httpx")
    mailmap = tmp / "mailmap"
    mailmap.write_text("Florimond Manca <florimond.manca@gmail.com> <florimond.manca@protonmail.com>\n"
                       "Florimond Manca <florimond.manca@gmail.com> florimondmanca <florimond.manca@gmail.com>\n")
    people = tmp / "people.csv"
    people.write_text("person_id,email,display_name,tz,team\n"
                      "tom,tom@tomchristie.com,Tom Christie,Europe/London,httpx\n"
                      "florimond,florimond.manca@gmail.com,Florimond Manca,Europe/Paris,httpx\n")
    # A GitHub pulls export naming one of the same pull requests: it must meet the history, not double it.
    pulls = tmp / "pulls.json"
    pulls.write_text(json.dumps([{
        "number": 584, "title": "Better HTTP/2 defaults.", "html_url": f"{BASE}/pull/584", "state": "closed",
        "user": {"login": "tomchristie"}, "created_at": "2019-12-01T12:00:00Z", "updated_at": "2019-12-02T12:00:00Z",
        "closed_at": "2019-12-02T11:00:00Z", "merged_at": "2019-12-02T11:00:00Z", "labels": [], "assignees": []}]))
    aliases = tmp / "aliases.csv"
    aliases.write_text("alias,kind,person_id\ntomchristie,github,tom\n")
    cfg = Config({"digest.repo_urls": {"httpx": BASE}, "digest.git_mailmap": str(mailmap)})
    s = connect()
    ingest.run([people, aliases, REPO, pulls], s, cfg)
    yield s, cfg
    s.close()


def git_log(*args: str) -> list[str]:
    shim = Path(__file__).parent  # only to name a cwd; the repo is given with --git-dir via a copy-free shim
    from worklife.ingest.git import _shim

    tmp = _shim(REPO)
    try:
        out = subprocess.run(["git", "--git-dir", str(tmp or REPO), *args], capture_output=True, text=True,
                             check=True, cwd=shim).stdout
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return out.splitlines()


def test_squash_merged_pull_requests_become_shipped_items_with_titles_and_links(store):
    s, cfg = store
    d = build_digest(s, cfg, "httpx", WEEK, NOW, numbers="none")
    text = render(d, "md", limit=1000)
    # Every squash merge on master that week, by plain git: "<title> (#N)".
    subjects = git_log("log", "master", "--since=2019-12-02T00:00:00+00:00", "--until=2019-12-08T22:00:00+00:00",
                       "--format=%aE|%s")
    team = ("tom@tomchristie.com|", "florimond.manca@gmail.com|")  # the people file's team
    squashed = [re.match(r"^(.*\S)\s+\(#(\d+)\)$", x.split("|", 1)[1]) for x in subjects if x.startswith(team)]
    squashed = [m for m in squashed if m]
    assert len(squashed) >= 20
    for m in squashed:
        assert f"]({BASE}/pull/{m.group(2)}) (#{m.group(2)})" in text, m.group(0)
    assert f"[Better HTTP/2 defaults.]({BASE}/pull/584) (#584)" in text


def test_commits_of_a_pull_request_are_folded_under_it_with_short_hashes(store):
    s, cfg = store
    d = build_digest(s, cfg, "httpx", WEEK, NOW, numbers="none")
    [pr] = [i for p in d.work for i in p.items if i.ref == "encode/httpx#584"]
    branch = git_log("log", "--format=%h %s", "--abbrev=7", "refs/pull/584/head", "--not", "master")
    assert branch and {c.short for c in pr.commits} >= {line.split()[0] for line in branch}
    full = render(d, "md", full=True)
    assert f"  - [`97b7468`]({BASE}/commit/97b7468" in full  # folded, 7-character hash beside its title
    assert not re.search(r"\b[0-9a-f]{40}\b(?!\))", full)  # no full hashes outside links


def test_no_title_is_dropped_when_groups_are_summarised(store):
    s, cfg = store
    d = build_digest(s, cfg, "httpx", WEEK, NOW, numbers="none")
    short = render(d, "md", limit=3)
    for p in d.work:
        for item in p.items:
            assert item.title in short
    assert re.search(r"and \d+ more in `encode/httpx`: ", short)


def test_authors_with_several_addresses_count_once_through_the_mailmap(store):
    s, _ = store
    addresses = {x.split("|")[1] for x in git_log("log", "--all", "--format=%an|%ae") if x.startswith(("Florimond", "florimond"))}
    assert len(addresses) >= 2  # the raw history has several
    people = s.con.execute("SELECT count(DISTINCT person_id) FROM outcomes WHERE kind = 'commit' AND person_id IN "
                           "('florimond', 'florimond.manca@protonmail.com')").fetchone()[0]
    assert people == 1
    assert s.con.execute("SELECT count(*) FROM outcomes WHERE person_id = 'florimond.manca@protonmail.com'").fetchone()[0] == 0


def test_githubs_synthetic_merge_refs_are_not_work(store):
    s, _ = store
    assert s.con.execute("SELECT count(*) FROM outcomes WHERE kind = 'commit' AND title LIKE 'Merge % into %' "
                         "AND regexp_matches(title, '^Merge [0-9a-f]{40} into [0-9a-f]{40}$')").fetchone()[0] == 0


def test_a_github_export_and_the_git_history_name_the_same_pull_request_once(store):
    s, cfg = store
    d = build_digest(s, cfg, "httpx", WEEK, NOW, numbers="none")
    items = [i for p in d.work for i in p.items if i.ref == "encode/httpx#584"]
    assert len(items) == 1 and items[0].change == "shipped" and len(items[0].commits) == 5
    assert [p.project for p in d.work] == ["encode/httpx"]


def test_a_merge_commit_pull_request_takes_its_title_from_the_body_and_folds_its_branch(store):
    s, cfg = store
    merges = [x for x in git_log("log", "master", "--merges", "--format=%H|%s|%b", "--since=2019-09-02",
                                 "--until=2019-09-08") if "|Merge pull request #310 " in x]
    assert merges, "the history has 'Merge pull request #310 from …'"
    sha, _, body = merges[0].split("|", 2)
    brought = {line[:7] for line in git_log("log", "--format=%h", "--abbrev=7", f"{sha}^1..{sha}^2")}
    d = build_digest(s, cfg, "httpx", "2019-W36", datetime(2019, 9, 9, 10, tzinfo=UTC), numbers="none")
    [pr] = [i for p in d.work for i in p.items if i.ref == "encode/httpx#310"]
    assert pr.title == body.strip() == "Drop Content-Length headers on GET redirects"
    assert pr.change == "shipped" and pr.url == f"{BASE}/pull/310"
    assert {c.short for c in pr.commits} == brought | {sha[:7]}
