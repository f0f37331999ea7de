"""git repositories: one ``outcomes`` row (kind ``commit``) per commit of every branch.

Runs ``git -C PATH log --all --format=...`` and streams its output line by line (memory
flat in the history size). The author date keeps its offset (``%aI``) and is stored in
UTC; the author e-mail resolves to a person through the aliases (people file, mail).
Key: the commit hash, so the same commit reached from two clones counts once.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext, to_utc

log = logging.getLogger(__name__)

KIND = "git"
SEP = "\x1f"
FORMAT = SEP.join(["%H", "%ae", "%an", "%aI", "%s"])


def detect(path: Path) -> bool:
    """A work tree (``.git`` inside) or a bare repository (HEAD, objects/, refs/ or packed-refs)."""
    if not path.is_dir():
        return False
    return (path / ".git").exists() or (
        (path / "HEAD").is_file() and (path / "objects").is_dir()
        and ((path / "refs").is_dir() or (path / "packed-refs").is_file()))


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield batches of commits (outcomes) and unknown authors (people, not internal)."""
    git = shutil.which("git")
    if git is None:
        raise IngestError("git is not installed (needed to read repositories)", source=str(path))
    if not path.is_dir():
        raise IngestError("not a folder", source=str(path))
    with tempfile.TemporaryDirectory(prefix="worklife-git-") as tmp:
        yield from _log(git, _git_args(path, Path(tmp)), path, ctx)


def _git_args(path: Path, tmp: Path) -> list[str]:
    """How git is pointed at ``path``. A bare clone copied without its empty ``refs/`` folder
    (git then says "not a git repository") is read through a shadow git folder in ``tmp``:
    HEAD and packed-refs copied, objects linked, an empty refs/; nothing is written to ``path``."""
    if (path / ".git").exists() or (path / "refs").is_dir() or not (path / "objects").is_dir():
        return ["-C", str(path)]
    (tmp / "refs" / "heads").mkdir(parents=True)
    for name in ("HEAD", "packed-refs", "config"):
        if (path / name).is_file():
            shutil.copyfile(path / name, tmp / name)
    (tmp / "objects").symlink_to((path / "objects").resolve(), target_is_directory=True)
    return ["--git-dir", str(tmp)]


def _log(git: str, where: list[str], path: Path, ctx: IngestContext) -> Iterator[Batch]:
    cmd = [git, *where, "log", "--all", "--no-color", "--date-order", f"--format={FORMAT}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    source = str(path)
    seen: set[str] = set()
    batch = Batch()
    try:
        for n, raw in enumerate(proc.stdout, 1):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            batch.read += 1
            parts = line.split(SEP)
            where = f"{source}#{parts[0][:12] if parts and parts[0] else 'line' + str(n)}"
            if len(parts) != 5:
                batch.reject(where, "unexpected git log line", line)
                continue
            sha, email, name, when, subject = parts
            try:
                at = to_utc(datetime.fromisoformat(when))
            except ValueError:
                batch.reject(where, f"invalid author date {when!r}", line)
                continue
            email = email.strip().lower()
            pid = ctx.person_id(email) if email else ctx.person_id(name)
            if email and email not in ctx.aliases and email not in seen:
                seen.add(email)
                batch.add("people", {"person_id": pid, "email": email, "display_name": name or None,
                                     "is_internal": False, "source": source})
            batch.add("outcomes", {
                "outcome_key": sha, "person_id": pid, "at_utc": at, "kind": "commit",
                "ref": sha, "title": subject, "project": path.resolve().name, "state": None,
                "url": None, "source": source, "source_ref": where})
            if batch.read >= ctx.batch_size:
                yield batch
                batch = Batch()
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        code = proc.wait()
    if code != 0:
        raise IngestError(f"git log failed: {err.splitlines()[-1] if err else 'exit ' + str(code)}",
                          source=source)
    yield batch
