"""Time the synthetic organisation, streamed division by division: generate, load into a
store, write the raw files, per size.

    python benchmarks/synth.py [--stages generate,store,write] [--truth] [--division-size N]
                               [--mail-format mbox|maildir] [--dir DIR] [PEOPLExWEEKS ...]
    # default: 200x12 2000x52, stages generate,store,write

Each stage runs in a fresh subprocess (so its peak RSS, VmHWM, is its own) and prints
one line: wall-clock and CPU seconds (the machine is shared: CPU time is the steadier
figure), rows or files, rows/s, peak RSS, and the load average before and after.

- ``generate``: ``generate_divisions`` only (each division built, then dropped);
- ``store``: ``load_into_store(generate_divisions(...), store)`` into a new DuckDB file
  with ``SET memory_limit`` = ``--duckdb-memory`` (default 2GB; DuckDB's buffer pool
  otherwise grows towards 80 % of RAM); rows = every canonical row inserted;
- ``write``: ``write(generate_divisions(...), dir)`` (mbox by default; ground truth only
  with ``--truth``); reports the bytes written.
Outputs go under ``--dir`` (default: a temporary directory) and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))


def vm_hwm_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def worker(stage: str, people: int, weeks: int, division_size: int, mail_format: str, truth: bool,
           where: Path, duckdb_memory: str) -> dict:
    from worklife.store import connect
    from worklife.synth import generate_divisions, load_into_store, write

    orgs = generate_divisions(people, weeks, seed=0, start=date(2025, 3, 3), division_size=division_size)
    fig: dict = {}
    if stage == "generate":
        counts = {"divisions": 0, "messages": 0, "meetings": 0, "commits": 0}
        for org in orgs:
            counts["divisions"] += 1
            counts["messages"] += len(org.messages)
            counts["meetings"] += len(org.meetings)
            counts["commits"] += len(org.commits)
            del org
        fig.update(counts)
    elif stage == "store":
        db = where / "synth.duckdb"
        with connect(db) as store:
            if duckdb_memory != "-":  # DuckDB's buffer pool otherwise grows towards 80 % of RAM
                store.con.execute(f"SET memory_limit = '{duckdb_memory}'")
            counts = load_into_store(orgs, store)
        fig["rows"] = sum(counts.values())
        fig["tables"] = counts
        fig["db_gb"] = db.stat().st_size / 1e9
    else:
        out = where / "raw"
        summary = write(orgs, out, mail_format=mail_format, ground_truth=truth)
        fig.update({k: v for k, v in summary.items() if k != "out"})
        fig["rows"] = summary["emails"] + summary["chat_messages"] + summary["meeting_occurrences"]
        fig["disk_gb"] = du(out) / 1e9
    return fig


def run(stage: str, people: int, weeks: int, args) -> None:
    base = Path(args.dir) if args.dir else None
    where = Path(tempfile.mkdtemp(prefix="worklife-synth-", dir=base))
    cmd = [sys.executable, __file__, "--worker", stage, f"{people}x{weeks}", str(where),
           "--division-size", str(args.division_size), "--mail-format", args.mail_format,
           "--duckdb-memory", args.duckdb_memory]
    if args.truth:
        cmd.append("--truth")
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)})
    finally:
        shutil.rmtree(where, ignore_errors=True)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        print(f"{people}x{weeks} {stage}: FAILED {proc.stderr.strip()[-400:]}", flush=True)
        return
    fig = json.loads(lines[-1])
    rate = f"{fig['rows'] / wall:10,.0f} rows/s" if "rows" in fig else ""
    extra = {k: v for k, v in fig.items() if k not in ("cpu_s", "peak_gb")}
    print(f"{people}x{weeks} {stage:8s} {wall:7.1f} s wall {fig['cpu_s']:7.1f} s cpu  {rate}  "
          f"peak {fig['peak_gb']:4.1f} GB  load {load0:.1f}->{load1:.1f}  {json.dumps(extra)}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", default=["200x12", "2000x52"])
    ap.add_argument("--stages", default="generate,store,write")
    ap.add_argument("--division-size", type=int, default=None)
    ap.add_argument("--mail-format", default="mbox", choices=["mbox", "maildir"])
    ap.add_argument("--truth", action="store_true", help="write ground_truth.parquet too (slow: ~2 ms per person-week)")
    ap.add_argument("--duckdb-memory", default="2GB", help="DuckDB memory_limit of the store ('-': default)")
    ap.add_argument("--dir", default=None, help="where outputs go (deleted afterwards)")
    ap.add_argument("--worker", nargs=3, metavar=("STAGE", "SIZE", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    from worklife.synth import DIVISION_SIZE

    args.division_size = args.division_size or DIVISION_SIZE
    if args.worker:
        stage, size, where = args.worker
        people, weeks = (int(x) for x in size.split("x"))
        t = time.process_time()
        fig = worker(stage, people, weeks, args.division_size, args.mail_format, args.truth, Path(where),
                     args.duckdb_memory)
        fig["cpu_s"] = time.process_time() - t
        fig["peak_gb"] = vm_hwm_gb()
        print(json.dumps(fig))
        return
    for size in args.sizes:
        people, weeks = (int(x) for x in size.split("x"))
        for stage in args.stages.split(","):
            run(stage.strip(), people, weeks, args)


if __name__ == "__main__":
    main()
