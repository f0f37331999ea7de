"""git repositories: commits, the pull requests they were merged through, and who wrote them.

Three streamed ``git log`` passes (memory flat in the history size, apart from one set
of commit hashes):

1. **Branches and tags** (``--all`` without GitHub's ``refs/pull/*``): one ``outcomes`` row
   of kind ``commit`` per commit (``ref`` = full hash, ``title`` = subject). A squash-merged
   pull request (subject ending ``(#1234)``) and a merge commit ``Merge pull request #1234
   from user/branch`` (title: the first body line) also give a ``pr_merged`` row for the
   pull request, and the commit is linked to it.
2. **Merge commits' branches**: for each ``Merge pull request`` commit, the commits it
   brought in (``merge^1..merge^2``) are linked to that pull request.
3. **Pull-request heads only** (``refs/pull/N/head`` not reachable from any branch or tag,
   as in a mirror clone of a GitHub repository): the commits of pull requests before they
   were squashed, each a ``commit`` row linked to pull request N. GitHub's synthetic
   ``refs/pull/N/merge`` commits are never read.

A link is an ``outcomes`` row of kind ``pr_commit`` (``ref`` = the pull request,
``source_ref`` = the commit hash); the digest folds linked commits under their pull
request. Authors go through the mailmap (``%aN``/``%aE``: the repository's ``.mailmap``,
plus ``digest.git_mailmap`` when set), so one person's several addresses count once; the
author date keeps its offset (``%aI``) and is stored in UTC.

Links to the web: the base URL is ``digest.repo_urls[<name>]`` when set, else derived
from ``remote.origin.url`` (GitHub-style hosts). With a base, ``project`` is
``owner/repo`` (the same as a GitHub export's), commits link to ``<base>/commit/<hash>``
and pull requests are ``owner/repo#N`` linking to ``<base>/pull/N``. Without one,
``project`` is the folder name (``.git`` dropped) and pull requests are ``<name>#N``.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext, to_utc

log = logging.getLogger(__name__)

KIND = "git"
SUFFIXES: tuple[str, ...] = ()  # a folder: a work tree or a bare repository
READS = "git repository"  # in words, for error messages
SEP = "\x1f"
FORMAT = SEP.join(["%H", "%P", "%aE", "%aN", "%aI", "%s"])
FIELDS = 6
PR_LINK = "pr_commit"
SQUASH = re.compile(r"^(?P<title>.*\S)\s+\(#(?P<n>\d+)\)$")
MERGE = re.compile(r"^Merge pull request #(?P<n>\d+) from (?P<branch>\S+)")
_REMOTE = re.compile(r"^(?:https?://|ssh://)?(?:[^@/]+@)?(?P<host>[^/:]+)[:/](?P<path>[^/]+/[^/]+?)(?:\.git)?/?$")


def is_bare_repository(path: Path) -> bool:
    """A bare repository's shape (``HEAD`` file and ``objects/``), with or without ``refs/``:
    never a mail folder, and read through a shim when ``refs/`` is missing."""
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def detect(path: Path) -> bool:
    """A work tree (``.git`` inside) or a bare repository (HEAD, objects/, refs/ or packed-refs)."""
    if not path.is_dir():
        return False
    return (path / ".git").exists() or (
        is_bare_repository(path) and ((path / "refs").is_dir() or (path / "packed-refs").is_file()))


@dataclass(frozen=True)
class Repo:
    """Where to run git, and how this repository is named and linked."""

    git: str
    gitdir: str  # passed as -C
    project: str
    base_url: str | None
    mailmap: str | None

    def cmd(self, *args: str) -> list[str]:
        extra = ["-c", f"mailmap.file={self.mailmap}"] if self.mailmap else []
        return [self.git, *extra, "-C", self.gitdir, *args]

    def pr_ref(self, number: str) -> str:
        return f"{self.project}#{number}"

    def pr_url(self, number: str) -> str | None:
        return f"{self.base_url}/pull/{number}" if self.base_url else None

    def commit_url(self, sha: str) -> str | None:
        return f"{self.base_url}/commit/{sha}" if self.base_url else None


def web_base(remote: str | None) -> str | None:
    """``git@github.com:o/r.git`` or ``https://github.com/o/r`` -> ``https://github.com/o/r``."""
    if not remote:
        return None
    m = _REMOTE.match(remote.strip())
    if not m or "." not in m.group("host"):
        return None
    return f"https://{m.group('host')}/{m.group('path')}"


def _shim(path: Path) -> Path | None:
    """A bare repository copied without its empty ``refs/`` folder is not one to git: give it one.

    Returns a temporary folder (objects and packed-refs linked, HEAD copied) or None.
    """
    if (path / ".git").exists() or (path / "refs").is_dir():
        return None
    tmp = Path(tempfile.mkdtemp(prefix="worklife-git-"))
    (tmp / "refs" / "heads").mkdir(parents=True)
    (tmp / "objects").symlink_to((path / "objects").resolve())
    if (path / "packed-refs").is_file():
        (tmp / "packed-refs").symlink_to((path / "packed-refs").resolve())
    shutil.copyfile(path / "HEAD", tmp / "HEAD")
    return tmp


def _open_repo(path: Path, ctx: IngestContext, gitdir: Path) -> Repo:
    git = shutil.which("git")
    assert git is not None
    name = path.resolve().name
    name = name[:-4] if name.endswith(".git") and len(name) > 4 else name
    urls = ctx.config["digest.repo_urls"] or {}
    base = urls.get(name) if isinstance(urls, dict) else None
    if base is None:
        remote = subprocess.run([git, "-C", str(gitdir), "config", "--get", "remote.origin.url"],
                                capture_output=True, text=True, check=False).stdout.strip()
        base = web_base(remote)
    base = str(base).rstrip("/") if base else None
    project = "/".join(base.split("/")[-2:]) if base else name
    mailmap = str(ctx.config["digest.git_mailmap"] or "") or None
    if mailmap and not Path(mailmap).is_file():
        raise IngestError(f"digest.git_mailmap: no such file {mailmap!r}", source=str(path))
    return Repo(git, str(gitdir), project, base, mailmap)


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield batches of commits, merged pull requests and links (outcomes) and unknown authors (people)."""
    if shutil.which("git") is None:
        raise IngestError("git is not installed (needed to read repositories)", source=str(path))
    if not path.is_dir():
        raise IngestError("not a folder", source=str(path))
    shim = _shim(path) if is_bare_repository(path) else None
    try:
        repo = _open_repo(path, ctx, shim or path)
        yield from _read(repo, path, ctx)
    finally:
        if shim is not None:
            shutil.rmtree(shim, ignore_errors=True)


def _read(repo: Repo, path: Path, ctx: IngestContext) -> Iterator[Batch]:
    source = str(path)
    state = _State(repo, source, ctx)
    main_log = repo.cmd("log", "--no-color", "--date-order", f"--format={FORMAT}", "--exclude=refs/pull/*", "--all")
    merges: list[tuple[str, str, str]] = []  # (merge sha, pr number, author pid)
    on_branches: set[bytes] = set()
    for parts in _log_lines(main_log, source, state):
        sha = parts[0]
        on_branches.add(bytes.fromhex(sha))
        pid = state.commit(parts, pr=None)
        if pid is None:
            continue
        subject, parents = parts[5], parts[1].split()
        squash, merge = SQUASH.match(subject), MERGE.match(subject)
        if merge and len(parents) == 2:
            merges.append((sha, merge.group("n"), pid))
        elif squash and len(parents) <= 1:
            state.pr_merged(squash.group("n"), squash.group("title"), pid, parts)
            state.link(squash.group("n"), sha, pid, parts)
        yield from state.flush()
    for sha, number, pid in merges:
        title = _first_body_line(repo, sha) or f"Merge pull request #{number}"
        merge_parts = state.seen_parts[sha]
        state.pr_merged(number, title, pid, merge_parts)
        state.link(number, sha, pid, merge_parts)
        branch_log = repo.cmd("log", "--no-color", f"--format={FORMAT}", f"{sha}^1..{sha}^2")
        for parts in _log_lines(branch_log, source, state, count=False):
            state.link(number, parts[0], state.author(parts), parts)
        yield from state.flush()
    pr_log = repo.cmd("log", "--no-color", "--date-order", "--source", f"--format={FORMAT}{SEP}%S",
                      "--glob=refs/pull/*/head", "--not", "--exclude=refs/pull/*", "--all")
    for parts in _log_lines(pr_log, source, state, fields=FIELDS + 1):
        m = re.match(r"^refs/pull/(\d+)/head$", parts[FIELDS])
        if bytes.fromhex(parts[0]) in on_branches:
            continue
        state.commit(parts[:FIELDS], pr=m.group(1) if m else None)
        yield from state.flush()
    yield state.batch


class _State:
    """The batch being filled, the people seen, and the row builders."""

    def __init__(self, repo: Repo, source: str, ctx: IngestContext):
        self.repo, self.source, self.ctx = repo, source, ctx
        self.batch = Batch()
        self.seen_people: set[str] = set()
        self.seen_parts: dict[str, list[str]] = {}  # merge commits' fields, for pass 2

    def flush(self) -> Iterator[Batch]:
        if self.batch.read >= self.ctx.batch_size or len(self.batch) >= self.ctx.batch_size:
            yield self.batch
            self.batch = Batch()

    def where(self, sha: str) -> str:
        return f"{self.source}#{sha[:12]}"

    def author(self, parts: list[str]) -> str | None:
        email, name = parts[2].strip().lower(), parts[3]
        pid = self.ctx.person_id(email) if email else self.ctx.person_id(name)
        if email and email not in self.ctx.aliases and email not in self.seen_people:
            self.seen_people.add(email)
            self.batch.add("people", {"person_id": pid, "email": email, "display_name": name or None,
                                      "is_internal": False, "source": self.source})
        return pid

    def at(self, parts: list[str]) -> datetime:
        return to_utc(datetime.fromisoformat(parts[4]))

    def commit(self, parts: list[str], pr: str | None) -> str | None:
        """A ``commit`` row (and its link to pull request ``pr``); None when the line was rejected."""
        sha = parts[0]
        try:
            at = self.at(parts)
        except ValueError:
            self.batch.reject(self.where(sha), f"invalid author date {parts[4]!r}", SEP.join(parts))
            return None
        pid = self.author(parts)
        if MERGE.match(parts[5]):
            self.seen_parts[sha] = parts
        self.batch.add("outcomes", {
            "outcome_key": sha, "person_id": pid, "at_utc": at, "kind": "commit", "ref": sha,
            "title": parts[5], "project": self.repo.project, "state": None,
            "url": self.repo.commit_url(sha), "source": self.source, "source_ref": self.where(sha)})
        if pr is not None:
            self.link(pr, sha, pid, parts)
        return pid

    def pr_merged(self, number: str, title: str, pid: str | None, parts: list[str]) -> None:
        ref = self.repo.pr_ref(number)
        self.batch.add("outcomes", {
            "outcome_key": f"pr_merged:{ref}:{parts[0]}".lower(), "person_id": pid, "at_utc": self.at(parts),
            "kind": "pr_merged", "ref": ref, "title": title, "project": self.repo.project, "state": "merged",
            "url": self.repo.pr_url(number), "source": self.source, "source_ref": self.where(parts[0])})

    def link(self, number: str, sha: str, pid: str | None, parts: list[str]) -> None:
        ref = self.repo.pr_ref(number)
        self.batch.add("outcomes", {
            "outcome_key": f"{PR_LINK}:{ref}:{sha}".lower(), "person_id": pid, "at_utc": self.at(parts),
            "kind": PR_LINK, "ref": ref, "title": None, "project": self.repo.project, "state": None,
            "url": self.repo.pr_url(number), "source": self.source, "source_ref": sha})


def _first_body_line(repo: Repo, sha: str) -> str | None:
    out = subprocess.run(repo.cmd("log", "-1", "--format=%b", sha), capture_output=True, text=True,
                         errors="replace", check=False).stdout
    return next((line.strip() for line in out.splitlines() if line.strip()), None)


def _log_lines(cmd: list[str], source: str, state: _State, fields: int = FIELDS,
               count: bool = True) -> Iterator[list[str]]:
    """Run one ``git log`` and yield its lines split into fields; bad lines are quarantined."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for n, raw in enumerate(proc.stdout, 1):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if count:
                state.batch.read += 1
            parts = line.split(SEP)
            if len(parts) != fields or not re.fullmatch(r"[0-9a-f]{40,64}", parts[0]):
                where = f"{source}#{parts[0][:12] if parts and parts[0] else 'line' + str(n)}"
                state.batch.reject(where, "unexpected git log line", line)
                continue
            yield parts
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        code = proc.wait()
    if code != 0:
        raise IngestError(f"git log failed: {err.splitlines()[-1] if err else 'exit ' + str(code)}",
                          source=source)
