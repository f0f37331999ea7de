"""Benchmark `worklife.policy`: check() and boundary_pressure() on a generated store.

Usage: python benchmarks/policy.py [PEOPLE] [WEEKS]   (default 500 people x 8 weeks)
Prints rows generated and seconds per stage. Data: each person sends ~15 messages per
workday to 1-3 colleagues at random local times (10% after hours), attends ~3 meetings
and makes ~2 commits; zones and jurisdictions rotate over PT, FR, AR, AU-NSW, CA-ON.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from worklife.config import Config
from worklife.policy import boundary_pressure, check
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

ZONES = [("Europe/Lisbon", "PT"), ("Europe/Paris", "FR"), ("America/Argentina/Buenos_Aires", "AR"),
         ("Australia/Sydney", "AU-NSW"), ("America/Toronto", "CA-ON")]


def generate(store, n: int, weeks: int, seed: int = 7) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    ids = [f"user{i:05d}@example.com" for i in range(n)]
    store.upsert("people", pa.table({
        "person_id": ids, "email": ids, "display_name": [f"Test Person {i:05d}" for i in range(n)],
        "tz": [ZONES[i % 5][0] for i in range(n)], "work_start": ["09:00"] * n, "work_end": ["17:00"] * n,
        "workdays": ["Mon-Fri"] * n, "manager_id": [ids[(i // 8) * 8] if i % 8 else None for i in range(n)],
        "team": [f"Team {i // 12:03d}" for i in range(n)], "level": ["ic"] * n,
        "jurisdiction": [ZONES[i % 5][1] for i in range(n)], "is_internal": [True] * n}))
    d0 = datetime(2025, 3, 3)
    days = weeks * 7
    m = n * days * 15 * 5 // 7
    sender = rng.integers(0, n, m)
    day = rng.integers(0, days, m)
    hour = np.where(rng.random(m) < 0.1, rng.uniform(17, 24, m), rng.uniform(8, 17, m))
    sent = [d0 + timedelta(days=int(d), hours=float(h)) for d, h in zip(day, hour)]
    keys = [f"m{i}" for i in range(m)]
    store.upsert("messages", pa.table({
        "message_key": keys, "message_id": [f"<{k}@example.com>" for k in keys], "channel": ["email"] * m,
        "sender_id": [ids[s] for s in sender], "sent_utc": pa.array(sent, pa.timestamp("us")),
        "thread_id": [f"t{i // 3}" for i in range(m)], "in_reply_to": [None] * m,
        "subject_or_channel": ["Test subject"] * m, "is_auto": [False] * m}))
    rc = rng.integers(1, 4, m)
    rk, rp = [], []
    for i in range(m):
        for j in range(rc[i]):
            rk.append(keys[i])
            rp.append(ids[(sender[i] + 1 + j * 3 + int(day[i])) % n])
    store.upsert("message_recipients", pa.table({"message_key": rk, "person_id": rp, "kind": ["to"] * len(rk)}))
    k = n * days * 3 * 5 // 7 // 4
    starts = [d0 + timedelta(days=int(d), hours=float(h)) for d, h in
              zip(rng.integers(0, days, k), rng.integers(7, 18, k))]
    mkeys = [f"e{i}" for i in range(k)]
    org = rng.integers(0, n, k)
    store.upsert("meetings", pa.table({
        "meeting_key": mkeys, "uid": mkeys, "recurrence_id": [""] * k, "start_utc": pa.array(starts, pa.timestamp("us")),
        "end_utc": pa.array([s + timedelta(hours=1) for s in starts], pa.timestamp("us")), "all_day": [False] * k,
        "status": ["confirmed"] * k, "transp": ["opaque"] * k, "organizer_id": [ids[o] for o in org],
        "title": ["Test meeting"] * k, "is_recurring": [False] * k}))
    ak, ap, ar = [], [], []
    for i in range(k):
        for j in range(4):
            ak.append(mkeys[i])
            ap.append(ids[(org[i] + j) % n])
            ar.append("organizer" if j == 0 else "accepted")
    store.upsert("meeting_attendees", pa.table({"meeting_key": ak, "person_id": ap, "response": ar,
                                                "is_organizer": [r == "organizer" for r in ar]}))
    c = n * days * 2 * 5 // 7
    store.upsert("outcomes", pa.table({
        "outcome_key": [f"c{i}" for i in range(c)], "person_id": [ids[p] for p in rng.integers(0, n, c)],
        "at_utc": pa.array([d0 + timedelta(days=int(d), hours=float(h)) for d, h in
                            zip(rng.integers(0, days, c), rng.uniform(8, 19, c))], pa.timestamp("us")),
        "kind": ["commit"] * c}))
    refresh_tz_offsets(store)
    return {"messages": m, "recipients": len(rk), "meetings": k, "attendees": len(ak), "commits": c}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    weeks = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    store = connect(":memory:")
    t = time.perf_counter()
    counts = generate(store, n, weeks)
    print(f"generated {n} people x {weeks} weeks: {counts} in {time.perf_counter() - t:.1f} s")
    cfg = Config()
    t = time.perf_counter()
    findings = check(store, cfg, "auto")
    dt = time.perf_counter() - t
    print(f"check(auto): {len(findings)} findings in {dt:.2f} s "
          f"({counts['recipients'] / dt:,.0f} contact events/s)")
    t = time.perf_counter()
    frames = boundary_pressure(store, cfg)
    print(f"boundary_pressure: {', '.join(f'{k}={len(v)}' for k, v in frames.items())} "
          f"in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
