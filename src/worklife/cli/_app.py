"""The Typer application and what every command shares: console, errors, exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    name="worklife",
    help="Measure and stop the infinite workday, privately, from the exports you already have.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
guard_app = typer.Typer(help="Hold messages until the recipient's working window.", no_args_is_help=True)
config_app = typer.Typer(help="Show the settings in force.", no_args_is_help=True)
app.add_typer(guard_app, name="guard")
app.add_typer(config_app, name="config")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line on stderr and exit (1: the job failed, 2: bad usage)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def not_landed(command: str, issue: int) -> NoReturn:
    """For commands whose implementation has not landed: say so, exit 1, fake nothing."""
    fail(f"`worklife {command}` is not implemented yet (tracked in issue {issue})", 1)


def is_interactive() -> bool:
    return sys.stderr.isatty()
