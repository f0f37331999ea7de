"""Benchmark of a refresh's planning and commit, on a kept stale store, leaving it unchanged
(prints; not a test).

    python benchmarks/refresh_parts.py --db STALE.duckdb
    python benchmarks/refresh_parts.py --db STALE.duckdb --compare /path/to/other/checkout --repeat 4

STALE: a store whose stored results miss an ingested week, e.g. a copy of the store of
``benchmarks/incremental.py`` taken between its steps 3 (the held week written) and 3a (the
refresh). Each run is a fresh process that goes through ``results.refresh`` part by part —
``_ensure``, ``plan``, ``open_backend``, the people, ``_stage`` (the boxes computed into the
temporary staging table), then ``_commit_rows`` inside ``BEGIN`` … ``ROLLBACK`` — so the
store is left as it was and runs can repeat. It prints each part's wall and CPU seconds
(all threads) and "all but the stage" (what pass 9 of docs/performance.md is about), and
a digest of the plan's boxes and of the rows the commit wrote (inside its transaction),
which must be the same for both sides. The ``COMMIT`` itself is not timed here (its
checkpoint depends on the store's write-ahead log; pass 9 timed it on a small copy of the
metric tables).

``--daily-touched``: the store's ``metric_touched`` rows regrouped per person and UTC day
in a temporary table of that name (what ingest writes since pass 9), for a store ingested
before. ``--compare DIR`` alternates with the ``src/`` of another checkout on the same
store (e.g. ``git worktree add /tmp/base HEAD~3``) and prints the medians of both.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from _alternate import CHILD_PRELUDE, alternate, run_child

CHILD = CHILD_PRELUDE + r"""
from worklife.config import Config
from worklife.metrics import results
from worklife.metrics.engine import open_backend
from worklife.metrics.resources import limited
from worklife.store import connect

parts = {}
def part(name, f):
    t, c = time.perf_counter(), cpu()
    out = f()
    parts[name] = [time.perf_counter() - t, cpu() - c]
    return out

with connect(sys.argv[2]) as store:
    con, config = store.con, Config()
    con.execute("SET memory_limit = '4GB'")
    if sys.argv[3] == "daily":
        con.execute("CREATE TEMP TABLE metric_touched AS SELECT max(seq) AS seq, person_id, min(lo_s) AS lo_s, "
                    "max(hi_s) AS hi_s FROM main.metric_touched GROUP BY person_id, lo_s // 86400")
    part("ensure", lambda: results._ensure(con))
    p = part("plan", lambda: results.plan(con, config))
    eng = part("open_backend", lambda: open_backend(con))
    people = part("people", lambda: p.people if getattr(p, "people", None) is not None else eng.people())
    with limited(con, config):
        part("stage", lambda: results._stage(con, p, eng, people, config, p.jobs))
        con.execute("BEGIN")
        try:
            n = part("commit_rows", lambda: results._commit_rows(con, p, p.jobs))
            digest = con.execute(
                "SELECT (SELECT count(*) || ':' || sum(hash(d::VARCHAR)) FROM metric_days d WHERE watermark = $1) || '/' "
                "|| (SELECT count(*) || ':' || sum(hash(w::VARCHAR)) FROM metric_weeks w WHERE watermark = $1)",
                [p.watermark]).fetchall()[0][0]
        finally:
            con.execute("ROLLBACK")
        part("drop", lambda: con.execute(f"DROP TABLE IF EXISTS {results.STAGING}"))
jobs = [(None if j.persons is None else len(j.persons), j.d0, j.d1) for j in p.jobs]
rest = [sum(v[i] for k, v in parts.items() if k != "stage") for i in (0, 1)]
print(json.dumps({"parts": parts, "all_but_stage": rest, "rows": n, "jobs": jobs,
                  "digest": hashlib.md5((repr(jobs) + digest).encode()).hexdigest()[:12]}))
"""

SHOWN = ("plan", "open_backend", "people", "stage", "commit_rows")


def measure(src: Path, db: Path, touched: str) -> dict:
    """One refresh's parts in a fresh process running the code of ``src``."""
    return run_child(CHILD, src, [str(db), touched], "refresh parts")


def show(side: str, i: int, r: dict) -> None:
    cells = " ".join(f"{k} {r['parts'][k][0]:.3f}/{r['parts'][k][1]:.3f}" for k in SHOWN)
    w, c = r["all_but_stage"]
    print(f"{side:>8} run {i}: {cells} | all but stage {w:.3f} s wall, {c:.3f} CPU s | "
          f"rows {r['rows']} jobs {r['jobs']} digest {r['digest']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a store with stale results (left unchanged)")
    ap.add_argument("--compare", type=Path, help="another checkout, measured alternately")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--daily-touched", action="store_true",
                    help="metric_touched regrouped per person and UTC day (as ingest writes it since pass 9)")
    args = ap.parse_args()
    touched = "daily" if args.daily_touched else "as stored"
    runs = alternate(args.compare, args.repeat, lambda side, src: measure(src, args.db, touched), show)
    for side, rs in runs.items():
        med = {k: [statistics.median(r["parts"][k][i] for r in rs) for i in (0, 1)] for k in SHOWN}
        rest = [statistics.median(r["all_but_stage"][i] for r in rs) for i in (0, 1)]
        print(f"{side:>8} medians of {len(rs)}: " + " ".join(f"{k} {w:.3f}/{c:.3f}" for k, (w, c) in med.items())
              + f" | all but stage {rest[0]:.3f} s wall, {rest[1]:.3f} CPU s; digests {sorted({r['digest'] for r in rs})}")


if __name__ == "__main__":
    main()
