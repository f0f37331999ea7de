"""Calendar ingest speed and memory: occurrences per second, single process vs pool.

    python benchmarks/ingest_calendar.py [--events 4778] [--recurring 0.15] [--workers 0] [--files 1 8]

Generates Google-export-like calendars with the icalendar library (descriptions,
locations, alarms, 2-8 attendees per event, a share of weekly series): the events as one
export, and spread over several people's exports. For each, times every phase in a fresh
process so peak memory (max RSS, workers included) belongs to one phase:

- baseline: what DESIGN.md's ~2,000 occurrences/s refers to, icalendar.Calendar.from_ical
  + recurring_ical_events.of(cal).between(window), one process, occurrence components;
- worklife adapter (``ics.read``) in one process, then with the process pool;
- end to end: ``worklife.ingest.run`` into a DuckDB file, with the pool.

All phases expand the same window and must produce the same number of occurrences.
Figures are ratios within one run on this machine; the target is >= 10,000
occurrences/s (5x the baseline) on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

WINDOW = (date(2025, 1, 1), date(2025, 12, 31))


def generate(path: Path, events: int, recurring: float, seed: int = 7, first: int = 0) -> None:
    """A calendar shaped like a Google export (UTC times, X-WR-TIMEZONE, long descriptions)."""
    import icalendar

    r = random.Random(seed)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Google Inc//Google Calendar 70.9054//EN")
    cal.add("version", "2.0")
    cal.add("X-WR-CALNAME", path.name.removesuffix(".ics"))
    cal.add("X-WR-TIMEZONE", "Europe/Berlin")
    stamp = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for i in range(events):
        ev = icalendar.Event()
        start = datetime(2025, 1, 1, 7, tzinfo=timezone.utc) + timedelta(
            days=r.randrange(0, 360), hours=r.randrange(0, 10), minutes=r.choice((0, 30)))
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=r.choice((15, 30, 60, 90))))
        for name in ("dtstamp", "created", "last-modified"):
            ev.add(name, stamp)
        ev.add("uid", f"{first + i:06d}{r.getrandbits(64):016x}@google.com")
        ev.add("summary", f"Meeting {i}")
        ev.add("description", "Join with Google Meet: https://meet.google.com/abc-defg-hij\n" * 6)
        ev.add("location", "Room 4, Building 2")
        ev.add("sequence", 0)
        ev.add("status", "CONFIRMED")
        ev.add("transp", "OPAQUE")
        ev.add("organizer", f"mailto:user{r.randrange(1, 60):02d}@example.com")
        for _ in range(r.randrange(2, 9)):
            a = icalendar.vCalAddress(f"mailto:user{r.randrange(1, 60):02d}@example.com")
            a.params["CUTYPE"] = "INDIVIDUAL"
            a.params["ROLE"] = "REQ-PARTICIPANT"
            a.params["PARTSTAT"] = r.choice(("ACCEPTED", "DECLINED", "TENTATIVE", "NEEDS-ACTION"))
            a.params["CN"] = "Test Person"
            a.params["X-NUM-GUESTS"] = "0"
            ev.add("attendee", a)
        if r.random() < recurring:
            ev.add("rrule", {"freq": "weekly", "count": r.randrange(4, 30)})
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-10))
        alarm.add("description", "Reminder")
        ev.add_component(alarm)
        cal.add_component(ev)
    path.write_bytes(cal.to_ical())


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (pool workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024  # Linux reports KiB


def phase(name: str, path: Path, workers: int) -> dict:
    """Run one phase in this process; return occurrences, seconds and peak memory."""
    import icalendar  # noqa: F401 - imports are a fixed cost, not part of the rate
    import recurring_ical_events  # noqa: F401

    if name != "baseline":
        import worklife.ingest.ics  # noqa: F401
        import worklife.store  # noqa: F401
    start, cpu = time.perf_counter(), _cpu_s()
    if name == "baseline":
        import icalendar
        import recurring_ical_events

        n = 0
        for file in sorted(path.glob("*.ics")):
            cal = icalendar.Calendar.from_ical(file.read_bytes())
            n += len(recurring_ical_events.of(cal).between(WINDOW[0], WINDOW[1] + timedelta(days=1)))
    elif name in ("single", "pool"):
        from worklife.config import Config
        from worklife.ingest import ics
        from worklife.ingest.base import IngestContext

        config = Config()
        config.set("calendar.workers", 1 if name == "single" else workers)
        config.set("calendar.pool_min_bytes", 0)
        n = 0
        for batch in ics.read(path, IngestContext(config=config, window=WINDOW)):
            n += len(batch.rows["meetings"])
    else:  # end to end into a DuckDB file
        from worklife import ingest
        from worklife.config import Config
        from worklife.store import connect

        config = Config()
        config.set("calendar.workers", workers)
        config.set("calendar.pool_min_bytes", 0)
        with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as store:
            ingest.run([path], store, config, kind="ics", window=WINDOW)
            n = store.count("meetings")
    seconds = time.perf_counter() - start
    return {"phase": name, "occurrences": n, "seconds": seconds, "cpu": _cpu_s() - cpu, "peak_mb": _peak_mb()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=4778, help="events in the generated calendar")
    parser.add_argument("--recurring", type=float, default=0.15, help="share of weekly series")
    parser.add_argument("--workers", type=int, default=0, help="pool size; 0: one per core")
    parser.add_argument("--files", type=int, nargs="+", default=[1, 8],
                        help="scenarios: the events as this many people's exports")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workers = args.workers or os.cpu_count() or 1
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.file), workers)))
        return
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for files in args.files:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            per = -(-args.events // files)
            for k in range(files):
                n = min(per, args.events - k * per)
                generate(folder / f"user{k + 1:02d}@example.com.ics", n, args.recurring, seed=7 + k, first=k * per)
            size = sum(f.stat().st_size for f in folder.glob("*.ics")) / 1e6
            print(f"\n{args.events} events in {files} file(s), {args.recurring:.0%} weekly series, {size:.1f} MB; "
                  f"window {WINDOW[0]}..{WINDOW[1]}; {workers} workers; {os.cpu_count()} cores")
            results = []
            for name in ("baseline", "single", "pool", "end-to-end"):
                out = subprocess.run([sys.executable, __file__, "--phase", name, "--file", str(folder),
                                      "--workers", str(workers)], capture_output=True, text=True, env=env,
                                     check=True)
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        _table(results)
    print("\nwall figures depend on other load on the machine (see `uptime`); CPU figures count "
          "the parent and every worker; imports are not timed")


def _table(results: list[dict]) -> None:
    base = results[0]["occurrences"] / results[0]["seconds"]
    base_cpu = results[0]["occurrences"] / results[0]["cpu"]
    print(f"{'phase':<12}{'occurrences':>12}{'wall s':>8}{'occ/s':>8}{'x base':>8}"
          f"{'cpu s':>8}{'occ/cpu-s':>10}{'x base':>8}{'peak MB':>9}")
    for r in results:
        rate, per_cpu = r["occurrences"] / r["seconds"], r["occurrences"] / r["cpu"]
        print(f"{r['phase']:<12}{r['occurrences']:>12}{r['seconds']:>8.2f}{rate:>8.0f}{rate / base:>8.1f}"
              f"{r['cpu']:>8.2f}{per_cpu:>10.0f}{per_cpu / base_cpu:>8.1f}{r['peak_mb']:>9.0f}")
    counts = {r["occurrences"] for r in results}
    print("same occurrences in every phase" if len(counts) == 1 else f"occurrence counts differ: {counts}")


if __name__ == "__main__":
    main()
