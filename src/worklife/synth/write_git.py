"""A real git repository of the org's commits, built with ``git fast-import``.

One linear history on ``main``; every commit has the empty tree, the author's name and
e-mail, and the author date in the author's local offset (committer = author). The
commit hashes are those of ``Org.commits.outcome_key`` (computed by the generator from
the same objects); ``GitStream.close`` checks that git agrees. A divisioned org is fed
division by division into one ``git fast-import`` process (``GitStream.add``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from worklife.errors import WorklifeError
from worklife.synth.generate import offset_str

ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


class GitStream:
    """One ``git fast-import`` process writing ``main`` at ``out``; feed commits in order."""

    def __init__(self, out: Path):
        self.out = out
        self.env = {**os.environ, **ENV}
        self.n = 0
        self.last: str | None = None
        out.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True, env=self.env,
                           capture_output=True)
            self.proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=out, env=self.env,
                                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise WorklifeError(f"{out}: cannot create the git repository: {exc}") from exc

    def add(self, commits) -> int:
        """Append the rows of ``commits`` (an ``Org.commits`` frame); returns how many."""
        c = commits
        stdin = self.proc.stdin
        assert stdin is not None
        start = self.n
        try:
            for name, email, at, off, title in zip(c["author_name"].tolist(), c["person_id"].tolist(),
                                                   c["at_utc"].tolist(), c["offset_s"].tolist(),
                                                   c["title"].tolist()):
                self.n += 1
                n = self.n
                who = f"{name} <{email}> {int(at)} {offset_str(int(off))}"
                msg = (title + "\n").encode("utf-8")
                head = f"commit refs/heads/main\nmark :{n}\nauthor {who}\ncommitter {who}\ndata {len(msg)}\n"
                stdin.write(head.encode("utf-8") + msg + (f"from :{n - 1}\n" if n > 1 else "").encode() + b"\n")
        except BrokenPipeError as exc:
            raise WorklifeError(f"{self.out}: git fast-import stopped: {self._stderr()}") from exc
        if len(c):
            self.last = str(c["outcome_key"].iloc[-1])
        return self.n - start

    def _stderr(self) -> str:
        return self.proc.stderr.read().decode().strip() if self.proc.stderr else ""

    def abort(self) -> None:
        """Stop the import without finishing it (the writer failed)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> int:
        """Finish the import, check ``main`` is the last generated hash; returns the commit count."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"done\n")
        self.proc.stdin.close()
        err = self._stderr()
        if self.proc.wait() != 0:
            raise WorklifeError(f"{self.out}: git fast-import failed: {err}")
        if self.n:
            head = subprocess.run(["git", "rev-parse", "main"], cwd=self.out, env=self.env, capture_output=True,
                                  text=True, check=True).stdout.strip()
            if head != self.last:
                raise WorklifeError(f"{self.out}: git wrote {head}, expected {self.last}")
        return self.n


def write_git(org, out: Path) -> int:
    """Create the repository at ``out`` from one Org; returns the number of commits."""
    git = GitStream(out)
    git.add(org.commits)
    return git.close()
