"""Time the synthetic organisation: generate, write (mbox) and ground truth, per size.

    python benchmarks/synth.py [PEOPLExWEEKS ...]     # default: 200x12 2000x52

Prints one line per stage with wall-clock and CPU seconds (the machine is shared: CPU
time is the steadier figure) and the peak RSS; writes into a temporary directory.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from worklife.synth import generate, person_week_metrics, write


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(t: tuple[float, float]) -> str:
    wall, cpu = time.perf_counter() - t[0], time.process_time() - t[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    return f"{wall:7.1f} s wall {cpu:7.1f} s cpu  peak {rss:5.1f} GB"


def run(people: int, weeks: int, truth: bool) -> None:
    t = clock()
    org = generate(people=people, weeks=weeks, seed=0)
    n_msg, n_occ = len(org.messages), len(org.meetings)
    print(f"{people}x{weeks}: generate {since(t)}  ({n_occ:,} meeting occurrences, "
          f"{n_msg:,} messages, {len(org.commits):,} commits)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = clock()
        write(org, Path(tmp), mail_format="mbox", ground_truth=False)
        print(f"{people}x{weeks}: write    {since(t)}  (mbox, no ground truth)", flush=True)
    if truth:
        t = clock()
        gt = person_week_metrics(org)
        print(f"{people}x{weeks}: truth    {since(t)}  ({len(gt):,} person-weeks)", flush=True)


if __name__ == "__main__":
    sizes = sys.argv[1:] or ["200x12", "2000x52"]
    for size in sizes:
        p, w = (int(x) for x in size.split("x"))
        run(p, w, truth=p * w <= 2400)
