"""`worklife synth`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from worklife.cli._app import app, console, err_console, fail


@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Directory to write the raw files into."),
    people: int = typer.Option(200, "--people", min=1, help="Number of people."),
    weeks: int = typer.Option(12, "--weeks", min=1, help="Number of ISO weeks."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same files)."),
    start: str = typer.Option("2025-03-03", "--start", help="First Monday, YYYY-MM-DD."),
    mail_format: str = typer.Option("maildir", "--mail-format", help="maildir or mbox (one per ISO week)."),
    no_ground_truth: bool = typer.Option(False, "--no-ground-truth", help="Skip ground_truth.parquet (large orgs)."),
    division_size: int = typer.Option(1000, "--division-size", min=48,
                                      help="People per division: generated and written one at a time."),
) -> None:
    """Write a synthetic organisation's raw files and its ground truth, division by division."""
    from worklife.synth import division_layout, generate_divisions, write

    try:
        first = date.fromisoformat(start)
    except ValueError:
        fail(f"--start must be a date YYYY-MM-DD, not {start!r}", 2)
    if mail_format not in ("maildir", "mbox"):
        fail(f"--mail-format must be maildir or mbox, not {mail_format!r}", 2)
    with Progress(TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=False) as bar:
        n_div = len(division_layout(people, division_size))
        gen = bar.add_task("generate (divisions)", total=n_div)
        tasks: dict[str, int] = {}

        def divisions():
            for org in generate_divisions(people, weeks, seed, first, division_size=division_size):
                bar.advance(gen, 1)
                yield org
                del org

        def step(name: str, total: int):
            if name not in tasks:  # one bar per stage; each division adds its share
                tasks[name] = bar.add_task(name, total=max(total, 1))
            else:
                bar.update(tasks[name], total=bar.tasks[tasks[name]].total + max(total, 1))
            t = tasks[name]
            return lambda n: bar.advance(t, n)

        summary = write(divisions(), out, mail_format=mail_format, ground_truth=not no_ground_truth, step=step)
    console.print(
        f"wrote {summary['people']} people"
        + (f" in {summary['divisions']} divisions" if "divisions" in summary else "")
        + f", {summary['calendars']} calendars "
        f"({summary['meeting_occurrences']} meeting occurrences), {summary['emails']} e-mails, "
        f"{summary['chat_messages']} chat messages, {summary['commits']} commits"
        + (f", {summary['ground_truth_rows']} ground-truth person-weeks" if "ground_truth_rows" in summary else "")
        + f" to {out}", highlight=False, soft_wrap=True)
