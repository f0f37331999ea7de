"""CPU seconds of a full run's batches on a kept store, and an md5 of each batch's rows (prints; not a test).

    python benchmarks/batches.py --db /work/bench/COPY.duckdb
    python benchmarks/batches.py --db COPY --compare /path/to/other/checkout --repeat 2

Each measurement runs in a fresh process: ``incremental.run_job`` of a full run (the
batches ``refresh(full=True)`` stages), each batch's relation written to a temporary
table and pivoted as ``results._write_rows`` does, nothing written to the store's
tables. Per batch it prints the CPU seconds (all threads) until the batch's relation is
ready (the shared tables, graph build, compile and cached steps), of the rows query and
of the pivot, and an md5 of the pivoted rows; then the whole run's CPU and wall. With
``--compare DIR`` the ``src/`` of another checkout runs alternately on the same store
and every batch's md5 must match. DuckDB's memory limit is ``--memory-limit`` (6GB).
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from _alternate import CHILD_PRELUDE, alternate, run_child

CHILD = CHILD_PRELUDE + r"""
from worklife.config import Config
from worklife.metrics import results
from worklife.metrics.engine import open_backend
from worklife.metrics.incremental import Job, run_job, universe
from worklife.store import connect

with connect(sys.argv[2]) as store:
    con = store.con
    con.execute(f"SET memory_limit = '{sys.argv[3]}'")
    c0, t0 = cpu(), time.perf_counter()
    eng = open_backend(store)
    span = universe(eng.span_dates())
    batches, c = [], cpu()
    for rel, _ in run_job(eng, eng.people(), eng.tz_offsets(), Config(), Job(None, *span), span, True):
        c1 = cpu()
        rel.query("_r", "CREATE OR REPLACE TEMP TABLE _batch_rows AS SELECT * FROM _r")
        c2 = cpu()
        out = con.execute(f"SELECT * FROM ({results._pivot_sql('_batch_rows')}) ORDER BY pk, day").fetchnumpy()
        c3 = cpu()
        h = hashlib.md5()
        for k in sorted(out):
            h.update(out[k].tobytes())
        con.execute("DROP TABLE _batch_rows")
        batches.append({"ready": c1 - c, "rows": c2 - c1, "pivot": c3 - c2, "md5": h.hexdigest()[:12]})
        c = cpu()
    print(json.dumps({"cpu": cpu() - c0, "wall": time.perf_counter() - t0, "batches": batches}))
"""


def measure(src: Path, db: Path, limit: str) -> dict:
    """One full run's batches in a fresh process running the code of ``src``."""
    return run_child(CHILD, src, [str(db), limit], "full run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="a kept store (read; only temporary tables are made)")
    ap.add_argument("--compare", type=Path, help="another checkout whose src/ is measured alternately")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--memory-limit", default="6GB", help="DuckDB memory limit of each run")
    args = ap.parse_args()
    print(f"full run's batches on {args.db} (load average {os.getloadavg()[0]:.1f})", flush=True)

    def show(name: str, i: int, r: dict) -> None:
        per = "  ".join(f"{b['ready']:.1f}+{b['rows']:.1f}+{b['pivot']:.1f}" for b in r["batches"])
        print(f"{name:<8} run {i}: {r['cpu']:6.1f} CPU s {r['wall']:6.1f} s wall  "
              f"batches (ready+rows+pivot CPU s): {per}", flush=True)

    runs = alternate(args.compare, args.repeat, lambda name, src: measure(src, args.db, args.memory_limit), show)
    digests = {tuple(b["md5"] for b in r["batches"]) for v in runs.values() for r in v}
    print(f"every run's batches have the same rows: {len(digests) == 1}  ({' '.join(next(iter(digests)))})")
    if "compare" in runs:
        a, b = (statistics.median(r["cpu"] for r in runs[k]) for k in ("compare", "this"))
        print(f"this / compare (median CPU): {b / a:.3f} ({b:.1f} / {a:.1f} s)")


if __name__ == "__main__":
    main()
