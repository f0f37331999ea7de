"""The Typer application and what every command shares: console, errors, exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

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

# markup=False: user and error text (paths, subjects, "pip install 'worklife[spark]'") prints
# literally everywhere, tables included; styled words go through ``styled``/``Text``.
console = Console(markup=False)
err_console = Console(stderr=True, markup=False)


def styled(text: str, style: str = "bold") -> Text:
    """``text`` in ``style``, never parsed as markup (append plain strings with ``+``)."""
    return Text(text, style=style)


def error_line(message: str) -> Text:
    """'error: <message>' with the prefix in bold red and the message literal."""
    return Text.assemble(("error:", "bold red"), " ", str(message))


def warn(message: str) -> None:
    """One 'note:' line on stderr (a loud default, an empty result's reason), printed literally."""
    err_console.print(Text.assemble(("note:", "yellow"), " ", str(message)), highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line on stderr and exit (1: the job failed, 2: bad usage)."""
    err_console.print(error_line(message), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def not_landed(command: str, issue: int) -> NoReturn:
    """For commands whose implementation has not landed: say so, exit 1, fake nothing."""
    fail(f"`worklife {command}` is not implemented yet (tracked in issue {issue})", 1)


def is_interactive() -> bool:
    return sys.stderr.isatty()
