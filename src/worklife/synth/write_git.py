"""A real git repository of the org's commits, built with ``git fast-import``.

One linear history on ``main``; every commit has the empty tree, the author's name and
e-mail, and the author date in the author's local offset (committer = author). The
commit hashes are those of ``Org.commits.outcome_key`` (computed by the generator from
the same objects); ``write_git`` checks that git agrees.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from worklife.errors import WorklifeError
from worklife.synth.generate import _offset_str


def write_git(org, out: Path) -> int:
    """Create the repository at ``out``; returns the number of commits."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_TERMINAL_PROMPT": "0"}
    try:
        subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True, env=env,
                       capture_output=True)
        proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=out, env=env,
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise WorklifeError(f"{out}: cannot create the git repository: {exc}") from exc
    c = org.commits
    n = 0
    assert proc.stdin is not None
    for name, email, at, off, title in zip(c["author_name"].tolist(), c["person_id"].tolist(),
                                           c["at_utc"].tolist(), c["offset_s"].tolist(), c["title"].tolist()):
        n += 1
        who = f"{name} <{email}> {int(at)} {_offset_str(int(off))}"
        msg = (title + "\n").encode("utf-8")
        head = f"commit refs/heads/main\nmark :{n}\nauthor {who}\ncommitter {who}\ndata {len(msg)}\n"
        proc.stdin.write(head.encode("utf-8") + msg + (f"from :{n - 1}\n" if n > 1 else "").encode() + b"\n")
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.wait() != 0:
        raise WorklifeError(f"{out}: git fast-import failed: {err.strip()}")
    if n:
        head = subprocess.run(["git", "rev-parse", "main"], cwd=out, env=env, capture_output=True,
                              text=True, check=True).stdout.strip()
        if head != c["outcome_key"].iloc[-1]:
            raise WorklifeError(f"{out}: git wrote {head}, expected {c['outcome_key'].iloc[-1]}")
    return n
