"""Hostile-input benchmark: wall time and peak memory of the worst cases of tests/_hostile.py.

    python benchmarks/hostile.py [--case ID ...]

Each case is built in a temporary folder and ingested by ``worklife.ingest.run`` in a
fresh Python process (so the peak RSS is that case's alone), into an in-memory store.
Prints one line per case: wall seconds of the ingest (imports excluded), peak RSS of the
process (MB), rows stored and records quarantined. Also times the recurrence expansion
alone (``_ics_events._Series.between``) for the endless and impossible rules. Aims: every
case ends; an endless SECONDLY rule's expansion well under 1 s; no case above ~500 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

WORST = ["ics-secondly-endless", "ics-secondly-window", "ics-never-occurs", "slack-nested-200000",
         "github-deep-item-and-year-9999", "csv-field-20mb", "eml-100000-recipients", "eml-date-after-huge-to",
         "mbox-subject-20mb", "ics-dtstart-year-9999"]

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {src!r}); sys.path.insert(0, {tests!r})
from pathlib import Path
from _hostile import BY_ID
from worklife import ingest
from worklife.config import Config
from worklife.errors import IngestError
from worklife.store import connect
case = BY_ID[{case!r}]
src = case.build(Path({tmp!r}))
args = dict(zip(case.args[::2], case.args[1::2]))
from datetime import date
window = (date.fromisoformat(args["--from"]), date.fromisoformat(args["--to"])) if "--from" in args else None
with connect(":memory:") as store:
    t = time.perf_counter()
    try:
        ingest.run([src], store, Config(), window=window)
    except IngestError:
        pass
    wall = time.perf_counter() - t
    rows = store.con.execute(f"SELECT count(*) FROM {{case.table}}").fetchone()[0]
    quarantined = store.con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
print(json.dumps({{"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": rows, "quarantined": quarantined}}))
"""


def run_case(case: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CHILD.format(src=str(REPO / "src"), tests=str(REPO / "tests"), case=case, tmp=tmp)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
        if out.returncode != 0:
            return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
        return json.loads(out.stdout.strip().splitlines()[-1])


def expansion_only() -> None:
    """Seconds to expand (or give up on) a rule alone, over a two-year window."""
    from datetime import datetime

    import icalendar

    from worklife.ingest._ics_events import _Event, _Series
    from worklife.ingest._ics_rrule import ExpansionTooLong

    for rule in ("FREQ=SECONDLY", "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY;BYSETPOS=2",
                 "FREQ=SECONDLY;COUNT=2000000000"):
        cal = icalendar.Calendar.from_ical("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20200103T100000Z\r\n"
                                           f"RRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        t = time.perf_counter()
        n, why = 0, "window end"
        try:
            for _ in _Series([_Event(cal.walk("VEVENT")[0])]).between(datetime(2023, 1, 1), datetime(2025, 1, 1)):
                n += 1
                if n >= 10_000:
                    why = "cap (10,000)"
                    break
        except ExpansionTooLong:
            why = "step budget"
        print(f"expand {rule:<40} {time.perf_counter() - t:6.3f} s  {n:>6} occurrences, stopped by {why}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", action="append", help="case id from tests/_hostile.py (repeatable)")
    args = ap.parse_args()
    expansion_only()
    for case in args.case or WORST:
        r = run_case(case)
        if "error" in r:
            print(f"{case:<34} FAILED: {r['error']}")
            continue
        print(f"{case:<34} {r['wall']:7.2f} s  {r['rss_mb']:7.0f} MB peak  {r['rows']:>7} rows  "
              f"{r['quarantined']:>3} quarantined")


if __name__ == "__main__":
    main()
