"""Time the synthetic organisation: generate, write (mbox) and ground truth, per size.

    python benchmarks/synth.py [PEOPLExWEEKS ...]     # default: 200x12 2000x52

Prints one line per stage with seconds and rates; writes into a temporary directory.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from worklife.synth import generate, person_week_metrics, write


def run(people: int, weeks: int, truth: bool) -> None:
    t0 = time.perf_counter()
    org = generate(people=people, weeks=weeks, seed=0)
    t1 = time.perf_counter()
    n_msg, n_occ = len(org.messages), len(org.meetings)
    print(f"{people}x{weeks}: generate {t1 - t0:7.1f} s  ({n_occ:,} meeting occurrences, "
          f"{n_msg:,} messages, {len(org.commits):,} commits)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        write(org, Path(tmp), mail_format="mbox", ground_truth=False)
        t3 = time.perf_counter()
        print(f"{people}x{weeks}: write    {t3 - t2:7.1f} s  (mbox; {n_msg / (t3 - t2):,.0f} messages/s overall)",
              flush=True)
    if truth:
        t4 = time.perf_counter()
        gt = person_week_metrics(org)
        print(f"{people}x{weeks}: truth    {time.perf_counter() - t4:7.1f} s  ({len(gt):,} person-weeks)", flush=True)


if __name__ == "__main__":
    sizes = sys.argv[1:] or ["200x12", "2000x52"]
    for size in sizes:
        p, w = (int(x) for x in size.split("x"))
        run(p, w, truth=p * w <= 2400)
