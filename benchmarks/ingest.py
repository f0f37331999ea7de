"""Ingest throughput and peak memory: Maildir, mbox and Slack on generated inputs of growing size.

    python benchmarks/ingest.py                 # default sizes, well under a minute on 2 cores
    python benchmarks/ingest.py --sizes 2000,20000,100000
    python benchmarks/ingest.py --mbox-gb 1     # also a ~1 GB mbox (memory must stay flat)

Each measurement runs in a fresh subprocess, so its peak RSS (``ru_maxrss`` of the
process and of its parsing workers) belongs to that input alone. Figures:

- parse msg/s: the adapter alone (read + parse + rows, no store), the DESIGN's target;
- end-to-end msg/s: ``worklife.ingest.run`` into a DuckDB file (upserts, threads, tz table);
- baseline: stdlib ``BytesHeaderParser(policy=compat32)`` on whole files, one process,
  measured in the same run on the same Maildir (DESIGN: ~3,500 msg/s; target >= 10,000);
- MB parse / MB run: peak RSS of the adapter alone / of the whole ingest (DuckDB's buffer
  cache included, which grows with the store, not with the input file);
- msg/CPU-s: records per CPU second (all processes), robust when other jobs share the
  machine; ``x base`` compares it with the baseline's; ``2-core est`` = 2 x msg/CPU-s, what
  the parse would reach with both cores to itself.

Calls ``benchmarks/ingest_calendar.py``'s ``main()`` too when that file exists.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET = 10_000  # msg/s, DESIGN performance targets
DESIGN_BASELINE = 3_500  # msg/s, BytesHeaderParser compat32 as stated in DESIGN
BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12 + "\n") * 20  # ~14 kB


def _headers(i: int, rng: random.Random) -> str:
    t = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(0, 525_600))
    off = rng.choice([-8, -5, 0, 1, 2, 5.5, 10])
    local = t.astimezone(timezone(timedelta(hours=off)))
    sender = rng.randrange(200)
    to = ", ".join(f"Test Person {r:03d} <user{r:03d}@example.com>" for r in rng.sample(range(200), 3))
    reply = f"In-Reply-To: <bench{i - 1}@example.com>\nReferences: <bench0@example.com> <bench{i - 1}@example.com>\n" \
        if i % 3 else ""
    return (f"Return-Path: <user{sender:03d}@example.com>\nReceived: from mx.example.com by mail.example.com; "
            f"{local.strftime('%a, %d %b %Y %H:%M:%S %z')}\n"
            f"Message-ID: <bench{i}@example.com>\nDate: {local.strftime('%a, %d %b %Y %H:%M:%S %z')}\n"
            f"From: =?utf-8?q?Test_Person_{sender:03d}_=C3=A9?= <user{sender:03d}@example.com>\nTo: {to}\n"
            f"Cc: user{rng.randrange(200):03d}@example.com\nSubject: =?utf-8?q?Re:_weekly_plan_{i % 50}?=\n"
            f"{reply}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            f"X-Mailer: bench\n\n")


def make_maildir(root: Path, n: int) -> Path:
    rng = random.Random(n)
    for folder in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        folder = ".Sent/cur" if i % 5 == 0 else "cur"
        (root / folder / f"{i}.bench:2,S").write_text(_headers(i, rng) + BODY[: 400 + (i % 7) * 300])
    return root


def make_mbox(path: Path, n: int | None = None, gigabytes: float | None = None) -> int:
    rng = random.Random(7)
    limit = int(gigabytes * 1e9) if gigabytes else None
    count = size = 0
    with open(path, "w") as fh:
        while (limit is None and count < (n or 0)) or (limit is not None and size < limit):
            body = BODY[: 400 + (count % 7) * 2000]
            text = f"From user@example.com Mon Jan  1 00:00:00 2024\n{_headers(count, rng)}{body}\n\n"
            fh.write(text)
            size += len(text)
            count += 1
    return count


def make_slack(root: Path, n: int) -> Path:
    rng = random.Random(n)
    users = [{"id": f"U{i:04d}", "name": f"user{i:04d}", "tz": rng.choice(["Europe/Paris", "Asia/Kolkata",
                                                                          "America/New_York"]),
              "profile": {"email": f"user{i:04d}@example.com", "real_name": f"Test Person {i:04d}"}}
             for i in range(100)]
    channels = [{"id": f"C{c:03d}", "name": f"channel-{c}", "members": [u["id"] for u in rng.sample(users, 12)]}
                for c in range(10)]
    (root).mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps(channels))
    base = 1_704_067_200
    per_file = 200
    for c in channels:
        (root / c["name"]).mkdir()
    for f in range(max(1, n // per_file)):
        c = channels[f % len(channels)]
        day = datetime(2024, 1, 1) + timedelta(days=f // len(channels))
        msgs = []
        for k in range(per_file):
            ts = f"{base + f * 86400 // len(channels) + k * 7}.{k:06d}"
            msgs.append({"type": "message", "user": rng.choice(c["members"]), "ts": ts, "text": "x" * 80,
                         **({"thread_ts": msgs[0]["ts"]} if k % 4 and msgs else {})})
        (root / c["name"] / f"{day:%Y-%m-%d}.json").write_text(json.dumps(msgs))  # one file per channel-day
    return root


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024  # Linux: kB


def one(kind: str, path: str, mode: str, workers: int) -> dict:
    """One measurement, in this (fresh) process."""
    from worklife import ingest
    from worklife.config import Config
    from worklife.ingest.base import IngestContext
    from worklife.store import connect

    cfg = Config({"ingest.workers": workers})
    t0 = time.perf_counter()
    c0 = _cpu()
    if mode == "baseline":
        from email.parser import BytesHeaderParser
        from email.policy import compat32

        parser = BytesHeaderParser(policy=compat32)
        n = 0
        for d, _, files in os.walk(path):
            for f in files:
                with open(os.path.join(d, f), "rb") as fh:
                    m = parser.parse(fh)
                for h in ("From", "To", "Cc", "Date", "Message-ID", "Subject", "References"):
                    m.get(h)
                n += 1
        records = n
    elif mode == "parse":
        module = ingest.ADAPTERS[kind]
        records = sum(b.read for b in module.read(Path(path), IngestContext(config=cfg)))
    else:
        with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as store:
            [s] = ingest.run([path], store, cfg, kind=kind)
            records = s.read
    dt = time.perf_counter() - t0
    cpu = _cpu() - c0
    return {"records": records, "seconds": dt, "rate": records / dt, "cpu_rate": records / cpu,
            "peak_mb": _peak_mb()}


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its reaped parsing workers."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(kind: str, path: Path, mode: str, workers: int = 0) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(path), mode, str(workers)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,10000,40000", help="messages per input, comma separated")
    ap.add_argument("--mbox-gb", type=float, default=0.0, help="also a generated mbox of this many GB")
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        kind, path, mode, workers = args.one
        print(json.dumps(one(kind, path, mode, int(workers))))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"ingest benchmark on {os.cpu_count()} cores; target {TARGET:,} msg/s headers-only "
          f"(DESIGN baseline {DESIGN_BASELINE:,} msg/s)")
    print(f"{'input':<24}{'records':>9}{'parse msg/s':>12}{'msg/CPU-s':>11}{'x base':>8}"
          f"{'2-core est':>11}{'x target':>9}{'end-to-end/s':>13}{'MB parse':>9}{'MB run':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        base: dict | None = None
        for n in sizes:
            md = make_maildir(tmpd / f"maildir{n}", n)
            if base is None:
                base = measure("maildir", md, "baseline")
                print(f"{'stdlib baseline ' + format(n, ','):<24}{n:>9,}{base['rate']:>12,.0f}"
                      f"{base['cpu_rate']:>11,.0f}   (BytesHeaderParser compat32, one process)")
            _row(f"maildir {n:,}", measure("maildir", md, "parse"), measure("maildir", md, "run"), base)
        for n in sizes:
            box = tmpd / f"box{n}.mbox"
            make_mbox(box, n)
            _row(f"mbox {n:,} ({box.stat().st_size / 1e6:.0f} MB)", measure("mbox", box, "parse"),
                 measure("mbox", box, "run"), base)
        if args.mbox_gb:
            box = tmpd / "big.mbox"
            count = make_mbox(box, gigabytes=args.mbox_gb)
            _row(f"mbox {box.stat().st_size / 1e9:.1f} GB", measure("mbox", box, "parse"),
                 measure("mbox", box, "run"), base)
            del count
        for n in sizes:
            sl = make_slack(tmpd / f"slack{n}", n)
            _row(f"slack {n:,}", measure("slack", sl, "parse"), measure("slack", sl, "run"), None)
    cal = ROOT / "benchmarks" / "ingest_calendar.py"
    if cal.exists():
        spec = importlib.util.spec_from_file_location("ingest_calendar", cal)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print()
        module.main([])  # its defaults; our flags are not its flags


def _row(label: str, parse: dict, run: dict, base: dict | None) -> None:
    xb = f"{parse['cpu_rate'] / base['cpu_rate']:>8.2f}" if base else f"{'':>8}"
    est = 2 * parse["cpu_rate"]
    print(f"{label:<24}{parse['records']:>9,}{parse['rate']:>12,.0f}{parse['cpu_rate']:>11,.0f}{xb}"
          f"{est:>11,.0f}{est / TARGET:>9.2f}{run['rate']:>13,.0f}{parse['peak_mb']:>9.0f}{run['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
