"""`worklife demo`: the whole pipeline on built-in synthetic data, ending with a report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from worklife.cli._app import app, console, err_console, fail, styled
from worklife.cli.toolkit import ConfigOpt
from worklife.config import load_config


@app.command()
def demo(
    people: int = typer.Option(200, "--people", min=48, help="Number of synthetic people (at least 48: six planted teams)."),
    weeks: int = typer.Option(12, "--weeks", min=1, help="Number of ISO weeks."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same organisation)."),
    out: Path = typer.Option(Path("out"), "--out", help="Directory for raw files, store and report."),
    start: str = typer.Option("2025-03-03", "--start", help="First Monday, YYYY-MM-DD."),
    config: ConfigOpt = None,
) -> None:
    """Synthetic organisation -> raw files -> ingest -> metrics -> report; prints the report path."""
    from worklife.demo import run_demo

    try:
        first = date.fromisoformat(start)
    except ValueError:
        fail(f"--start must be a date YYYY-MM-DD, not {start!r}", 2)
    cfg = load_config(config)
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console) as bar:

        def step(name: str, total: int):
            task = bar.add_task(name, total=max(total, 1))
            return lambda n: bar.advance(task, n)

        result = run_demo(out, people=people, weeks=weeks, seed=seed, start=first, config=cfg, step=step)
    console.rule("worklife demo")
    for line in result.summary:
        console.print(line, highlight=False)
    console.print(f"store:   {result.db_path}", highlight=False)
    console.print(f"metrics: {result.metrics_path}", highlight=False)
    console.print(styled(f"report:  {result.report_path.resolve()}") + "  (open it in a browser)", highlight=False)
    _demo_accounts(result.db_path, cfg)


def _demo_accounts(db_path: Path, cfg) -> None:
    """Create one app account per role on the demo store and print how to start the app."""
    from worklife.app.demo import create_demo_accounts

    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False, soft_wrap=True)

    try:
        users_db, accounts = create_demo_accounts(db_path, cfg)
    except ValueError as exc:
        err_console.print(f"no demo accounts: {exc}", highlight=False, markup=False, soft_wrap=True)
        return
    console.rule("web app")
    say(f"start it:  worklife serve --db {db_path}   then open http://127.0.0.1:8080/")
    say(f"demo accounts (in {users_db}; passwords shown only now, new ones at every demo run):")
    for a in accounts:
        say(f"  {a.role:<9} {a.email:<24} {a.password}   sees {a.what}")
