"""Benchmark of the first metrics call on a kept store: full run + store + read (prints; not a test).

    python benchmarks/first_call.py --db /work/bench/p19-10k.duckdb
    python benchmarks/first_call.py --db STORE --compare /path/to/other/checkout --repeat 2

Each measurement runs in a fresh process: it drops the store's stored results
(``metric_*`` tables), then times ``person_weeks(store, config)`` — nothing stored, so a
full run that writes ``metric_days``/``metric_weeks`` and reads them back — and reports
wall and CPU seconds (all threads), the load average and the process's peak RSS.
``--set NAME=VALUE`` sets a setting for this checkout's runs. ``--compare DIR`` alternates with the ``src/`` of another checkout (e.g. the previous
commit, ``git worktree add /tmp/base HEAD~1``) on the same store, and prints the ratios
of the medians, so both sides see the same machine load. Build a store with
``benchmarks/incremental.py --people 10000 --weeks 52 --keep FILE --build-only``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from _alternate import CHILD_PRELUDE, alternate, run_child

CHILD = CHILD_PRELUDE + r"""
from worklife.config import Config
from worklife.metrics.results import person_weeks
from worklife.store import connect

config = Config()
duck_limit = ""
for kv in json.loads(sys.argv[3]):
    name, value = kv.split("=", 1)
    if name == "duckdb.memory_limit":  # on the connection (code without metrics.memory_limit)
        duck_limit = value
    else:
        config.set(name, type(config[name])(value))
with connect(sys.argv[2]) as store:
    if duck_limit:
        store.con.execute(f"SET memory_limit = '{duck_limit}'")
    for t in ("metric_days", "metric_weeks", "metric_people", "metric_state", "metric_touched"):
        store.con.execute(f"DROP TABLE IF EXISTS {t}")
    store.con.execute("CHECKPOINT")
    la0 = os.getloadavg()[0]
    t, c = time.perf_counter(), cpu()
    df = person_weeks(store, config)
    wall, used = time.perf_counter() - t, cpu() - c
peak = next(int(x.split()[1]) // 1024 for x in Path("/proc/self/status").read_text().splitlines()
            if x.startswith("VmHWM:"))
digest = hashlib.md5(df.to_csv(index=False).encode()).hexdigest()
print(json.dumps({"wall": wall, "cpu": used, "peak_mb": peak, "rows": len(df), "digest": digest,
                  "load": [la0, os.getloadavg()[0]]}))
"""


def measure(src: Path, db: Path, settings: list[str]) -> dict:
    """One first call in a fresh process running the code of ``src``."""
    return run_child(CHILD, src, [str(db), json.dumps(settings)], "first call")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True, help="a kept store (its stored results are dropped)")
    ap.add_argument("--compare", type=Path, help="another checkout whose src/ is measured alternately")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--compare-memory-limit", default="",
                    help="DuckDB memory limit set on the connection for the --compare runs (e.g. 8GB: "
                         "code before metrics.memory_limit peaks near 80%% of RAM at 10,000 x 52)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for this checkout's runs, e.g. metrics.memory_limit=6GB (repeatable)")
    args = ap.parse_args()
    print(f"first call on {args.db} ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start)",
          flush=True)
    cmp = [f"duckdb.memory_limit={args.compare_memory_limit}"] if args.compare_memory_limit else []

    def show(name: str, i: int, r: dict) -> None:
        print(f"{name:<8} run {i}: {r['wall']:7.1f} s wall {r['cpu']:7.1f} s CPU  peak {r['peak_mb']:,} MB  "
              f"load {r['load'][0]:.1f}->{r['load'][1]:.1f}  {r['rows']:,} person-weeks", flush=True)

    runs = alternate(args.compare, args.repeat,
                     lambda name, src: measure(src, args.db, args.set if name == "this" else cmp), show)
    digests = {r["digest"] for v in runs.values() for r in v}
    print(f"every run returned the same person-weeks: {len(digests) == 1}")
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu", "peak_mb")} for k, v in runs.items()}
    if "compare" in med:
        a, b = med["compare"], med["this"]
        print(f"this / compare (medians): wall {b['wall'] / a['wall']:.2f}, CPU {b['cpu'] / a['cpu']:.2f}, "
              f"peak memory {b['peak_mb'] / a['peak_mb']:.2f}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
