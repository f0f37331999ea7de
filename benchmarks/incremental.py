"""Benchmark of stored results and incremental runs (prints figures; not a test).

    python benchmarks/incremental.py                       # 2,000 people x 52 weeks (+1)
    python benchmarks/incremental.py --people 10000 --weeks 52 --keep /data/s10k.duckdb
    python benchmarks/incremental.py --keep /data/s10k.duckdb  # again: reuses the kept store
    python benchmarks/incremental.py --people 10000 --keep /data/s10k.duckdb --build-only  # build, no timing

Generates the synthetic organisation (``worklife.synth``) over ``weeks + 1`` weeks into a
temporary DuckDB store, holding the last week back (kept as Parquet with ``--keep``) and
taking the week before it out of the store too, then measures in one process, one after
the other (ratios are what count on a shared machine; load average printed beside):

1. first ``person_weeks`` call (nothing stored: full run + store + read, ``weeks - 1`` weeks);
2. second call, nothing changed (freshness check + read);
2c. the week taken out written back and refreshed: the update before the measured one.
   In steady operation an earlier update has compiled the everyone box's SQL and kept it
   in the store (``worklife.metrics.sqlcache``); this one does that, and its time shows
   what an update costs when it compiles;
3. the held-back week written through ``Store.upsert`` and checkpointed (as ingest does:
   ``worklife ingest`` closes the store, and closing checkpoints DuckDB's write-ahead log;
   left in the log, folding it cost the next step ~0.8 s at 10,000 x 52), then (a) the
   refresh that brings the results up to date (the new week's days, for everyone, and
   the days before it that its rows reach) and (b) reading every person-week;
4. ``refresh(full=True)``, the full run again on the bigger store, for the ratio of 3
   (update against full run), and (b) reading every person-week after it (the ratio of
   update + read against full run + read: like for like on both sides);

and checks that the incremental result equals the full one, row for row.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from worklife.config import Config
from worklife.metrics.localtime import day_date
from worklife.metrics.results import person_weeks, plan, refresh
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

START = date(2025, 3, 3)
TIME_COL = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}
CHILD = {"meeting_attendees": ("meetings", "meeting_key"), "message_recipients": ("messages", "message_key")}


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def load(path: Path, people: int, weeks: int, memory_limit: str) -> dict[str, pa.Table]:
    """Generate ``weeks + 1`` weeks into ``path``; write all but the last week; return that week."""
    from worklife.synth import generate_divisions
    from worklife.synth.store_load import _canonical

    cutoff = pd.Timestamp(START + timedelta(weeks=weeks))
    held: dict[str, list[pd.DataFrame]] = {}
    with connect(path) as store:
        store.con.execute(f"SET memory_limit = '{memory_limit}'")
        fresh = None
        for part in generate_divisions(people=people, weeks=weeks + 1, seed=0, start=START):
            late_keys: dict[str, set] = {}
            for table, df in _canonical(part):
                if fresh is None:
                    fresh = {t for t in ("people", "person_aliases", "meetings", "meeting_attendees",
                                         "messages", "message_recipients", "outcomes") if store.count(t) == 0}
                if table in TIME_COL:
                    late = df[TIME_COL[table]] >= cutoff
                    late_keys[table] = set(df.loc[late, df.columns[0]])
                elif table in CHILD:
                    parent, key = CHILD[table]
                    late = df[key].isin(late_keys[parent])
                else:
                    late = pd.Series(False, index=df.index)
                held.setdefault(table, []).append(df[late])
                data = pa.Table.from_pandas(df[~late].reset_index(drop=True), preserve_index=False)
                if table in fresh:
                    store.insert(table, data)
                else:
                    store.upsert(table, data)
        refresh_tz_offsets(store)
    return {t: pa.Table.from_pandas(pd.concat(v, ignore_index=True), preserve_index=False)
            for t, v in held.items() if sum(len(x) for x in v)}


def take_out(store, cutoff: pd.Timestamp) -> dict[str, pa.Table]:
    """Delete the activity at or after ``cutoff`` from the store (parents by their time,
    children with their parent) and return it, to be written back later."""
    out: dict[str, pa.Table] = {}
    for t, (parent, key) in CHILD.items():
        where = f"{key} IN (SELECT {key} FROM {parent} WHERE {TIME_COL[parent]} >= ?)"
        out[t] = store.arrow(f"SELECT * FROM {t} WHERE {where}", [cutoff])
        store.con.execute(f"DELETE FROM {t} WHERE {where}", [cutoff])
    for t, col in TIME_COL.items():
        out[t] = store.arrow(f"SELECT * FROM {t} WHERE {col} >= ?", [cutoff])
        store.con.execute(f"DELETE FROM {t} WHERE {col} >= ?", [cutoff])
    return out


CPU: dict[str, float] = {}  # CPU seconds of each step, by its number ("1.", "3a.", ...)


def timed(label: str, fn) -> float:
    la = os.getloadavg()[0]
    t, c = time.perf_counter(), cpu_seconds()
    out = fn()
    wall, cpu = time.perf_counter() - t, cpu_seconds() - c
    CPU[label.split()[0]] = cpu
    print(f"{label:<58} {wall:8.2f} s wall {cpu:8.1f} s CPU  load {la:4.1f}  peak {peak_rss_mb():,} MB",
          flush=True)
    return wall, out


def stored_rows(store) -> list[tuple]:
    cols = "person_id, week_day, " + ", ".join(
        c for c in store.con.execute("SELECT * FROM metric_weeks LIMIT 0").df().columns
        if c not in ("person_id", "week_day", "settings_fp", "watermark"))
    return store.con.execute(f"SELECT {cols} FROM metric_weeks ORDER BY person_id, week_day").fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--keep", type=Path, help="build the store here and keep it")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit while loading")
    ap.add_argument("--build-only", action="store_true", help="with --keep: build the store, measure nothing")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="wl-incr-")
    # a cache folder of this run only, so step 2c compiles the box's SQL (docs/metrics.md "Kept SQL")
    os.environ["WORKLIFE_CACHE_DIR"] = str(Path(tmp.name) / "cache")
    path = args.keep or Path(tmp.name) / "store.duckdb"
    print(f"{args.people:,} people x {args.weeks} weeks (+1 held back; the last of the {args.weeks} taken out "
          f"for the update before), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    held = path.with_name(path.name + ".held")  # the held-back week, as Parquet files
    if args.keep and held.is_dir():
        print(f"reusing {path}: dropping its stored results and restoring the store without the held week")
        late = {f.stem: pq.read_table(f) for f in sorted(held.glob("*.parquet"))}
        with connect(path) as store:
            for t in ("metric_days", "metric_weeks", "metric_people", "metric_state", "metric_touched",
                      "metric_sql"):
                store.con.execute(f"DROP TABLE IF EXISTS {t}")
            for t, key in (("meeting_attendees", "meeting_key"), ("message_recipients", "message_key")):
                store.con.register("_late", late[t].select([key]))
                store.con.execute(f"DELETE FROM {t} WHERE {key} IN (SELECT {key} FROM _late)")
            for t in ("meetings", "messages", "outcomes"):
                store.con.register("_late", late[t].select([late[t].column_names[0]]))
                store.con.execute(f"DELETE FROM {t} WHERE {late[t].column_names[0]} IN (SELECT * FROM _late)")
            store.con.unregister("_late")
            refresh_tz_offsets(store)
    else:
        _, late = timed("generate + load (not part of the ratios)",
                           lambda: load(path, args.people, args.weeks, args.memory_limit))
        if args.keep:
            held.mkdir(exist_ok=True)
            for t, data in late.items():
                pq.write_table(data, held / f"{t}.parquet")
    if args.build_only:
        return
    with connect(path) as store:
        before = take_out(store, pd.Timestamp(START + timedelta(weeks=args.weeks - 1)))
        refresh_tz_offsets(store)
    config = Config()
    with connect(path) as store:
        rows = sum(store.count(t) for t in ("meetings", "meeting_attendees", "messages", "message_recipients"))
        print(f"input rows: {rows:,}; taken out for the week before: {sum(t.num_rows for t in before.values()):,}; "
              f"held back for the new week: {sum(t.num_rows for t in late.values()):,}")
        first, df = timed("1. first person_weeks (full run + store + read)", lambda: person_weeks(store, config))
        second, df2 = timed("2. second person_weeks, nothing changed", lambda: person_weeks(store, config))
        assert df.equals(df2)

        def add_week(rows: dict[str, pa.Table]) -> None:
            for t in ("people", "person_aliases", "meetings", "meeting_attendees", "messages",
                      "message_recipients", "outcomes"):
                if t in rows:
                    store.upsert(t, rows[t])
            refresh_tz_offsets(store)
            store.con.execute("CHECKPOINT")  # what closing ingest's connection does (see the docstring)

        add_week(before)
        timed("2c. refresh after the week before (compiles the box's SQL)", lambda: refresh(store, config))
        timed("   write the new week through Store.upsert (ingest's path)", lambda: add_week(late))
        _, stale = timed("   (of 3: finding what is stale: plan)", lambda: plan(store, config))
        print("   boxes:", ", ".join(f"{'everyone' if j.persons is None else len(j.persons)} people x "
                                    f"{j.d1 - j.d0 + 1} days ({day_date(j.d0)}..{day_date(j.d1)})"
                                    for j in stale.jobs) or "full run", flush=True)
        update, done = timed("3a. refresh after one added week (incremental)", lambda: refresh(store, config))
        print(f"   {done.jobs} box(es), {done.person_days:,} person-day rows written", flush=True)
        read, df3 = timed("3b. person_weeks (read; now fresh)", lambda: person_weeks(store, config))
        week = update + read
        incremental = stored_rows(store)
        full, _ = timed("4. refresh(full=True) on the same store", lambda: refresh(store, config, full=True))
        full_read, df4 = timed("4b. person_weeks (read; after the full run)", lambda: person_weeks(store, config))
        exact = stored_rows(store) == incremental and df4.equals(df3)
    print(f"second call: {first / second:,.0f}x faster than the first (aim >= 50x)")
    print(f"one added week, like for like (aim <= 1/20): the update (3a) against the full run (4): "
          f"1/{full / update:.1f} wall, 1/{CPU['4.'] / CPU['3a.']:.1f} CPU; each followed by a read "
          f"((3a + 3b) against (4 + 4b)): 1/{(full + full_read) / week:.1f} wall, "
          f"1/{(CPU['4.'] + CPU['4b.']) / (CPU['3a.'] + CPU['3b.']):.1f} CPU")
    print(f"   as passes 6-7 printed it, update and read against the full run alone ((3a + 3b) / 4): "
          f"1/{full / week:.1f} wall, 1/{CPU['4.'] / (CPU['3a.'] + CPU['3b.']):.1f} CPU")
    print(f"incremental result equals the full run row for row: {exact}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
