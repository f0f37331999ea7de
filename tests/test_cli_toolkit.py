"""One instant rule and one output writer for every command (``worklife.cli.toolkit``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from worklife.cli import main
from test_policy_support import boss_and_worker_store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wl.duckdb"
    boss_and_worker_store(path)
    return path


def run(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(args)
    out = capsys.readouterr()
    return done.value.code or 0, out.out, out.err


def commands(db, when: str) -> dict[str, list[str]]:
    return {
        "boundaries --from": ["boundaries", "--db", str(db), "--from", when],
        "boundaries --to": ["boundaries", "--db", str(db), "--to", when],
        "digest --now": ["digest", "--db", str(db), "--team", "Team A", "--week", "2025-W10", "--now", when],
        "guard next-window --at": ["guard", "next-window", "Europe/Paris", "--at", when],
    }


@pytest.mark.parametrize("when", ["2025-03-04T22:00", "2025-03-04"], ids=["time", "date"])
def test_an_instant_without_an_offset_is_refused_everywhere_the_same_way(db, capsys, when):
    for name, args in commands(db, when).items():
        code, _, err = run(args, capsys)
        flag = name.split()[-1]
        assert (code, err.strip()) == (2, f"error: {flag} {when!r} has no UTC offset; add one (e.g. Z or +01:00)"), name


def test_an_unparsable_instant_is_one_line(db, capsys):
    for name, args in commands(db, "friday").items():
        code, _, err = run(args, capsys)
        assert code == 2 and "is not an ISO 8601 instant" in err and "Traceback" not in err, name


def test_an_instant_with_an_offset_is_taken(db, capsys):
    code, out, _ = run(["boundaries", "--db", str(db), "--view", "pair", "--format", "csv",
                        "--from", "2025-03-04T21:00:00Z", "--to", "2025-03-05T00:00:00+00:00"], capsys)
    assert code == 0 and out.splitlines()[1].startswith("user01@example.com,user02@example.com,1,1")
    code, out, _ = run(["boundaries", "--db", str(db), "--view", "pair", "--format", "csv",
                        "--from", "2025-03-05T00:00:00+03:00"], capsys)  # 21:00 UTC the day before
    assert code == 0 and out.splitlines()[1].startswith("user01@example.com,user02@example.com,2,1")
    code, out, _ = run(["boundaries", "--db", str(db), "--view", "pair", "--format", "csv",
                        "--from", "2025-03-05T00:00:00+01:00"], capsys)  # 23:00 UTC: after the 22:00 message
    assert code == 0 and len(out.splitlines()) == 1  # the header only: no off-hours pair left


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_every_format_writes_the_same_rows(db, tmp_path, capsys, fmt):
    out = tmp_path / f"pairs.{fmt}"
    code, _, err = run(["boundaries", "--db", str(db), "--view", "pair", "--format", fmt, "--out", str(out)], capsys)
    assert code == 0 and f"wrote 1 rows to {out}" in err
    if fmt == "csv":
        rows = pd.read_csv(out).to_dict("records")
    elif fmt == "json":
        rows = json.loads(out.read_text())
    elif fmt == "parquet":
        rows = pd.read_parquet(out).to_dict("records")
    else:
        text = out.read_text()
        assert "boundary pressure: pair" in text and "user01@example.com" in text
        return
    assert [(r["sender_id"], r["recipient_id"], r["contacts"], r["off_hours_contacts"]) for r in rows] == \
        [("user01@example.com", "user02@example.com", 2, 1)]


def test_parquet_needs_a_file(db, capsys):
    code, _, err = run(["boundaries", "--db", str(db), "--format", "parquet"], capsys)
    assert code == 2 and "--format parquet needs --out FILE" in err


def test_export_goes_through_the_same_writer(db, tmp_path, capsys):
    """``export`` streams from DuckDB, but its checks and announcement are every command's."""
    for fmt in ("csv", "json", "parquet"):
        out = tmp_path / f"messages.{fmt}"
        code, _, err = run(["export", "messages", "--db", str(db), "--format", fmt, "--out", str(out)], capsys)
        n = {"csv": lambda: len(pd.read_csv(out)), "json": lambda: len(json.loads(out.read_text())),
             "parquet": lambda: len(pd.read_parquet(out))}[fmt]()
        assert code == 0 and n > 0 and err.strip() == f"wrote {n} rows to {out}", fmt
    code, _, err = run(["export", "messages", "--db", str(db), "--format", "parquet"], capsys)
    assert (code, err.strip()) == (2, "error: --format parquet needs --out FILE")


def cli_options() -> dict[tuple[str, ...], dict[str, str]]:
    """Every command's --db, --config, --out and --format help texts."""
    import typer.main

    from worklife.cli import app

    def walk(cmd, path=()):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield path, cmd

    return {path: {o: p.help for p in cmd.params for o in getattr(p, "opts", [])
                   if o in ("--db", "--config", "--out", "--format")}
            for path, cmd in walk(typer.main.get_command(app))}


def test_shared_options_are_defined_once():
    """--config everywhere, and --db wherever it is a store to read, come from ``cli.toolkit``."""
    from typing import get_args

    from worklife.cli.toolkit import ConfigOpt, DbOpt

    config_help, db_help = get_args(ConfigOpt)[1].help, get_args(DbOpt)[1].help
    options = cli_options()
    own_config = {("guard", "serve"), ("guard", "next-window")}  # names the guard.* settings it reads
    assert {p: o["--config"] for p, o in options.items() if "--config" in o and p not in own_config} == \
        {p: config_help for p, o in options.items() if "--config" in o and p not in own_config}
    readers = [("digest",), ("export",), ("metrics",), ("explain",), ("export-viva",), ("report",)]
    assert {p: options[p]["--db"] for p in readers} == {p: db_help for p in readers}
    assert len([p for p, o in options.items() if o.get("--config") == config_help]) >= 12
