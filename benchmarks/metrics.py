"""Benchmark of the metric engine (prints figures; not a test).

    python benchmarks/metrics.py                 # small: 200 people x 12 weeks
    python benchmarks/metrics.py --sizes small,medium,large
    python benchmarks/metrics.py --people 500 --weeks 8
    python benchmarks/metrics.py --db store.duckdb --no-pandas   # an existing store

Sizes: small 200x12, medium 2,000x52, large 10,000x52. Rows are generated directly
into a DuckDB store with SQL (per person-week: 5 organised meetings with 2-5 invitees,
12 e-mails with 2 recipients, 20 chat messages; six zones incl. a 30-minute offset), or
with ``--generator synth`` by ``worklife.synth`` (the realistic organisation).
Reports wall time, input rows/s and peak memory (RSS high-water mark, reset after the
organisation is generated, so it is the metric run's own) of the whole metric set
(imports loaded beforehand; people in batches of ``metrics.batch_people``), and two ratios measured in the same run:

(a) a straightforward pandas implementation of meeting_hours + after_hours_meeting_hours
    (groupby-apply union, per-row local conversion) / our whole metric set; run up to
    2,000 x 52 (about a minute there; it grows linearly);
(b) our whole metric set / DuckDB's own GROUP BY sum over the same input rows.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import ibis
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from worklife.config import Config  # noqa: E402
from worklife.metrics import compute  # noqa: E402
from worklife.store import connect  # noqa: E402
from worklife.timezones import refresh_tz_offsets  # noqa: E402

SIZES = {"small": (200, 12), "medium": (2000, 52), "large": (10000, 52)}
ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC", "America/Los_Angeles"]


def input_rows(store) -> int:
    """Input event rows: meetings + attendees + messages + recipients."""
    return sum(store.count(t) for t in ("meetings", "meeting_attendees", "messages", "message_recipients"))


def generate(store, people: int, weeks: int, seed: float = 0.42) -> int:
    """Fill ``store`` with synthetic rows; returns the number of input event rows."""
    con = store.con
    con.execute(f"SELECT setseed({seed})")
    zones = ", ".join(f"'{z}'" for z in ZONES)
    con.execute(f"""
        INSERT INTO people (person_id, email, tz, work_start, work_end, workdays, team, level,
                            jurisdiction, is_internal)
        SELECT printf('user%05d@example.com', i), printf('user%05d@example.com', i),
               ([{zones}])[1 + i % {len(ZONES)}], '09:00', '17:00', 'Mon-Fri',
               printf('Team %03d', i // 12), 'L' || (i % 4), '', TRUE
        FROM range({people}) t(i)""")
    base = "TIMESTAMP '2025-01-06 00:00:00'"
    con.execute(f"""
        CREATE TEMP TABLE _m AS
        SELECT printf('m%d_%d', p, k) AS meeting_key, p, k,
               {base} + INTERVAL (CAST(floor(random() * {weeks} * 7 * 96) AS BIGINT) * 15) MINUTE AS s,
               (1 + CAST(floor(random() * 8) AS INT)) * 15 AS dur_min,
               2 + CAST(floor(random() * 4) AS INT) AS n
        FROM range({people}) a(p), range({weeks} * 5) b(k)""")
    con.execute("""
        INSERT INTO meetings SELECT meeting_key, meeting_key, '', s, s + INTERVAL (dur_min) MINUTE,
               FALSE, CASE WHEN k % 40 = 0 THEN 'cancelled' ELSE 'confirmed' END, 'opaque', NULL,
               printf('user%05d@example.com', p),
               CASE WHEN k % 7 = 0 THEN 'Weekly status sync' ELSE 'Project review' END,
               k % 7 = 0, NULL, 'bench', NULL FROM _m""")
    con.execute(f"""
        INSERT INTO meeting_attendees
        SELECT meeting_key, printf('user%05d@example.com', CASE WHEN j = 0 THEN p ELSE (p + j * 7) % {people} END),
               CASE WHEN j = 0 THEN 'organizer' WHEN (k + j) % 9 = 0 THEN 'declined' ELSE 'accepted' END,
               NULL, j = 0, 'bench'
        FROM _m, range(6) r(j) WHERE j < n""")
    for channel, per_week, spread in (("email", 12, 1), ("chat", 20, 3)):
        con.execute(f"""
            INSERT INTO messages SELECT printf('{channel}%d_%d', p, k), NULL, '{channel}',
                   printf('user%05d@example.com', p),
                   {base} + INTERVAL (CAST(floor(random() * {weeks} * 7 * 86400) AS BIGINT)) SECOND,
                   NULL, NULL, CASE WHEN '{channel}' = 'chat' THEN '#team' ELSE 'Re: plan' END,
                   k % 50 = 0, 'bench', NULL
            FROM range({people}) a(p), range({weeks} * {per_week}) b(k)""")
        if channel == "email":
            con.execute(f"""
                INSERT INTO message_recipients
                SELECT printf('email%d_%d', p, k), printf('user%05d@example.com', (p + j * 13 + 1) % {people}),
                       CASE WHEN j = 0 THEN 'to' ELSE 'cc' END
                FROM range({people}) a(p), range({weeks} * {per_week}) b(k), range(2) r(j)""")
    refresh_tz_offsets(store, pad_days=10)
    return input_rows(store)


def duckdb_floor(store) -> float:
    """Seconds for DuckDB's own GROUP BY sums over the same input rows."""
    q = [
        """SELECT a.person_id, sum(date_diff('second', m.start_utc, m.end_utc)) FROM meeting_attendees a
           JOIN meetings m USING (meeting_key) GROUP BY a.person_id""",
        "SELECT sender_id, count(*) FROM messages GROUP BY sender_id",
        "SELECT person_id, count(*) FROM message_recipients GROUP BY person_id",
    ]
    t = time.perf_counter()
    for sql in q:
        store.con.execute(sql).fetchall()
    return time.perf_counter() - t


def pandas_meeting_hours(store) -> tuple[float, pd.DataFrame]:
    """Straightforward pandas: meeting_hours + after_hours_meeting_hours per person-week."""
    t = time.perf_counter()
    m = store.con.execute("SELECT * FROM meetings").df()
    a = store.con.execute("SELECT * FROM meeting_attendees").df()
    p = store.con.execute("SELECT person_id, tz FROM people").df()
    n = a.groupby("meeting_key").person_id.nunique().rename("n")
    m = m.join(n, on="meeting_key")
    dur = (m.end_utc - m.start_utc).dt.total_seconds()
    m = m[(m.status != "cancelled") & (m.transp != "transparent") & ~m.all_day & (dur > 0)
          & (dur <= 8 * 3600) & (m.n >= 2)]
    j = a[a.response != "declined"].merge(m, on="meeting_key").merge(p, on="person_id")

    def union(g: pd.DataFrame) -> pd.DataFrame:
        g = g.sort_values("start_utc")
        out, cur_s, cur_e = [], None, None
        for s, e in zip(g.start_utc, g.end_utc):
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    out.append((cur_s, cur_e))
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        out.append((cur_s, cur_e))
        return pd.DataFrame(out, columns=["s", "e"])

    isl = j.groupby(["person_id", "tz"]).apply(union, include_groups=False).reset_index()
    rows = []
    for r in isl.itertuples():
        step = pd.Timestamp(r.s)
        while step < r.e:  # minute resolution walk, split by local date
            nxt = min(r.e, step + pd.Timedelta(minutes=15))
            loc = step.tz_localize("UTC").tz_convert(r.tz)
            sec = (nxt - step).total_seconds()
            after = loc.weekday() >= 5 or not (9 <= loc.hour < 17)
            rows.append((r.person_id, loc.isocalendar()[:2], sec, sec if after else 0.0))
            step = nxt
    out = pd.DataFrame(rows, columns=["person_id", "week", "s", "after"]).groupby(["person_id", "week"]).sum()
    return time.perf_counter() - t, out


def generate_synth(store, people: int, weeks: int) -> int:
    """The synthetic organisation of ``worklife.synth`` loaded into ``store``, division by division."""
    from worklife.synth import generate_divisions, load_into_store

    store.con.execute("SET memory_limit = '2GB'")  # bounded build (DuckDB's buffer pool), reset for metrics
    try:
        load_into_store(generate_divisions(people=people, weeks=weeks, seed=0), store)
    finally:
        store.con.execute("RESET memory_limit")
    return input_rows(store)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process (all DuckDB threads): steadier than wall
    time on a shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def reset_peak_rss() -> None:
    """Reset this process's RSS high-water mark (Linux ``clear_refs``), so the next
    ``peak_rss_mb`` is the metric run's own peak, not the generator's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mb() -> int:
    """RSS high-water mark (VmHWM) in MB; ``ru_maxrss`` where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def measure(store, rows: int, pandas_baseline: bool) -> dict:
    """Figures of one metric run on a filled ``store`` (``rows`` input rows)."""
    ibis.duckdb  # noqa: B018 -- load the backend (a one-off import, ~1 s) before timing
    reset_peak_rss()
    t, c = time.perf_counter(), cpu_seconds()
    df = compute(store, Config())
    wall, cpu = time.perf_counter() - t, cpu_seconds() - c
    peak = peak_rss_mb()
    floor = duckdb_floor(store)
    res = {"input_rows": rows, "metrics_s": round(wall, 2), "metrics_cpu_s": round(cpu, 1),
           "rows_per_s": int(rows / wall), "person_weeks": len(df),
           "duckdb_floor_s": round(floor, 3), "ratio_vs_floor": round(wall / floor, 1),
           "peak_rss_mb": peak, "batch_people": Config()["metrics.batch_people"]}
    if pandas_baseline:
        pt, _ = pandas_meeting_hours(store)
        res["pandas_meeting_s"] = round(pt, 2)
        res["speedup_vs_pandas"] = round(pt / wall, 1)
    return res


def run(people: int, weeks: int, pandas_baseline: bool, generator: str = "sql") -> dict:
    with tempfile.TemporaryDirectory() as d:
        store = connect(Path(d) / "bench.duckdb")
        t = time.perf_counter()
        rows = (generate_synth if generator == "synth" else generate)(store, people, weeks)
        gen = time.perf_counter() - t
        res = {"generator": generator, "people": people, "weeks": weeks, "generate_s": round(gen, 2),
               **measure(store, rows, pandas_baseline)}
        store.close()
        return res


def run_existing(db: Path, pandas_baseline: bool) -> dict:
    """Measure a store that already exists (opened read-only; nothing generated)."""
    with connect(db, read_only=True, create=False) as store:
        rows = input_rows(store)
        people = store.count("people")
        return {"db": str(db), "people": people, **measure(store, rows, pandas_baseline)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="small", help="comma list of small, medium, large")
    ap.add_argument("--people", type=int, help="custom size: people (with --weeks)")
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--no-pandas", action="store_true", help="skip the (slow) pandas baseline")
    ap.add_argument("--generator", choices=["sql", "synth"], default="sql",
                    help="rows from SQL (fast, any size) or worklife.synth (realistic; slower to build)")
    ap.add_argument("--db", type=Path, help="measure this existing store instead of generating one")
    args = ap.parse_args()
    if args.db:
        res = run_existing(args.db, not args.no_pandas)
        print("  ".join(f"{k}={v}" for k, v in res.items()), flush=True)
        return
    sizes = [(args.people, args.weeks)] if args.people else [SIZES[s] for s in args.sizes.split(",")]
    for people, weeks in sizes:
        res = run(people, weeks, not args.no_pandas and people * weeks <= 2000 * 52, args.generator)
        print("  ".join(f"{k}={v}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    main()
