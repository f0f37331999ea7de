"""`worklife config show`: the settings in force, with defaults, units and meaning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from worklife.cli._app import config_app, console
from worklife.cli.toolkit import ConfigOpt
from worklife.config import load_config


@config_app.command("show")
def show(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print every setting: name, value in force, unit, meaning."""
    cfg = load_config(config)
    if as_json:
        console.print_json(json.dumps({s.name: v for s, v in cfg.items()}))
        return
    table = Table(title=f"worklife settings ({cfg.source})")
    for col in ("setting", "value", "unit", "meaning"):
        table.add_column(col, overflow="fold")
    for setting, value in cfg.items():
        shown = value if not isinstance(value, (list, dict)) else json.dumps(value)[:80]
        marker = "" if value == setting.default else " *"
        table.add_row(setting.name, f"{shown}{marker}", setting.unit, setting.help)
    console.print(table)


@config_app.command("docs")
def docs(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here (docs/configuration.md) instead of stdout.")] = None,
) -> None:
    """Print docs/configuration.md, generated from the settings registry."""
    from worklife.config_docs import render

    text = render()
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}", highlight=False)
