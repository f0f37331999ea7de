"""The demo pipeline: synthetic organisation → raw exports → ingest → metrics → report.

``run_demo`` is what ``make demo`` / ``worklife demo`` runs. It goes through the real
file formats and the real adapters (not a shortcut into the store), so the demo shows
exactly what a user's own exports would give.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from worklife.config import Config

# A stage reporter: (stage name, total units) -> advance(n) callable.
StepFactory = Callable[[str, int], Callable[[int], None]]


def _no_progress(name: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class DemoResult:
    """Where the demo wrote things, and what it measured."""

    out_dir: Path
    raw_dir: Path
    db_path: Path
    report_path: Path
    metrics_path: Path
    person_weeks: pd.DataFrame
    summary: list[str] = field(default_factory=list)
    ingest_counts: dict[str, int] = field(default_factory=dict)


def _expected_records(org) -> int:
    """Records the adapters will read (progress total; an estimate is fine)."""
    return int(len(org.people) + len(org.meetings) + len(org.messages) + len(org.commits))


def run_demo(out_dir: Path, people: int = 200, weeks: int = 12, seed: int = 0,
             start: date = date(2025, 3, 3), config: Config | None = None,
             step: StepFactory = _no_progress) -> DemoResult:
    """Run the whole pipeline into ``out_dir`` (its raw/, worklife.duckdb and report are replaced)."""
    from worklife import ingest
    from worklife.metrics import compute
    from worklife.report import build_report, collect_sections, summary_lines
    from worklife.report.providers import standard_providers
    from worklife.store import connect
    from worklife.synth import generate, write

    config = config or Config()
    out_dir = Path(out_dir)
    raw = out_dir / "raw"
    db_path = out_dir / "worklife.duckdb"
    if raw.exists():
        shutil.rmtree(raw)
    for stale in (db_path, db_path.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    advance = step("generate organisation", 1)
    org = generate(people=people, weeks=weeks, seed=seed, start=start)
    advance(1)
    write(org, raw, ground_truth=True, step=step)

    sources = [raw / "calendars", raw / "mail", raw / "slack", raw / "git"]
    counts: dict[str, int] = {}
    with connect(db_path) as store:
        advance = step("ingest exports (records)", _expected_records(org))
        summaries = ingest.run(sources, store, config, people=raw / "people.csv",
                               on_progress=lambda source, n: advance(n))
        for s in summaries:
            counts[Path(s.source).name] = s.inserted

        advance = step("compute metrics", 1)
        person_weeks = compute(store, config)
        advance(1)
        metrics_path = out_dir / "person_weeks.csv"
        person_weeks.to_csv(metrics_path, index=False)

        advance = step("policy, validation, savings", 1)
        extra = collect_sections(store, config, person_weeks, standard_providers())
        advance(1)
        advance = step("write report", 1)
        report_path = build_report(store, config, out_dir / "report.html", person_weeks=person_weeks,
                                   sections=extra,
                                   title=f"worklife demo: {people} synthetic people × {weeks} weeks")
        advance(1)
        summary = summary_lines(store, person_weeks, config)
    return DemoResult(out_dir, raw, db_path, report_path, metrics_path, person_weeks, summary, counts)
