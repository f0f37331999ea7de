"""The one line said when stored results are computed in memory (``freshness.in_memory_note``).

What a user depends on: on stderr it reads like every other note the CLI prints
(``note: ...``, one line), names the store and says how to store the results. Checked
on the real command in a fresh process (the CLI's own stderr, no test logging handler).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _metrics_store import finish, meeting, message, person

from worklife.metrics.freshness import ABSENT, STALE, ResultsState, in_memory_note
from worklife.store import connect

A, B = "alice@example.com", "bob@example.com"
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.parametrize("state", [ResultsState(ABSENT, ["never run"], None, True),
                                   ResultsState(STALE, ["1 people with a new or changed schedule"], "t", True),
                                   ResultsState(STALE, ["x"], "t", False)],
                         ids=["absent-read-only", "stale-read-only", "not-updated"])
def test_the_note_is_one_line_with_the_cli_note_prefix(state):
    line = in_memory_note(state, "/srv/w.duckdb")
    assert line.startswith("note: /srv/w.duckdb has ") and "\n" not in line
    assert "`worklife metrics --db /srv/w.duckdb`" in line


# Runs the real CLI with this user unable to write the store (root can write anything).
_CLI = """
import sys
from worklife.metrics import stored
stored.writable = lambda db: False
from worklife.cli import main
main(sys.argv[1:])
"""


def test_cli_on_a_store_the_user_cannot_write_prints_the_note_like_the_others(tmp_path):
    db = tmp_path / "w.duckdb"
    with connect(db) as s:
        person(s, A, "Europe/Paris")
        person(s, B, None)  # bob on the default zone: the loud-defaults note too
        meeting(s, "2025-03-04T09:00:00", "2025-03-04T10:00:00", A, {B: "accepted"})
        message(s, "2025-03-05T22:00:00", A, to=[B])
        finish(s)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", _CLI, "metrics", "--db", str(db), "--format", "csv"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    in_memory = [x for x in lines if "computing the metrics in memory" in x]
    assert len(in_memory) == 1
    assert in_memory[0].startswith(f"note: {db} has no stored metric results and is open read-only")
    assert any(x.startswith("note: ") and "default time zone" in x for x in lines)  # the other notes
    assert all(x.startswith("note: ") for x in lines), lines
    assert done.stdout.splitlines()[0].startswith("person_id,week")
