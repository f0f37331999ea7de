"""Measure two checkouts alternately, each run in a fresh process (shared by the
``--compare`` benchmarks: ``first_call.py``, ``batches.py``).

A run is ``python -c CHILD <src> <args...>``: CHILD puts ``<src>`` first on ``sys.path``
(so it imports that checkout's ``worklife``) and prints one JSON object as its last line.
``CHILD_PRELUDE`` is the start every CHILD shares: the path, and ``cpu()``, the process's
CPU seconds (all threads).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD_PRELUDE = r"""
import hashlib, json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
"""


def run_child(child: str, src: Path, args: list[str], what: str) -> dict:
    """Run ``child`` on the code of ``src`` in a fresh process; its last line as JSON
    (exits with the child's error output when it fails; ``what`` names the run)."""
    out = subprocess.run([sys.executable, "-c", child, str(src), *args], capture_output=True, text=True,
                         check=False)
    if out.returncode:
        sys.exit(f"{what} failed ({src}):\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def alternate(compare: Path | None, repeat: int, measure: Callable[[str, Path], dict],
              show: Callable[[str, int, dict], None]) -> dict[str, list[dict]]:
    """``measure(side, src)`` ``repeat`` times for this checkout and, with ``compare``,
    another checkout's ``src/`` first, alternately (both see the same machine load);
    ``show(side, run number, result)`` after each. Returns the results by side."""
    sides = {"this": ROOT / "src"}
    if compare:
        sides = {"compare": compare.resolve() / "src", **sides}
    runs: dict[str, list[dict]] = {k: [] for k in sides}
    for i in range(repeat):
        for name, src in sides.items():
            runs[name].append(measure(name, src))
            show(name, i + 1, runs[name][-1])
    return runs
