"""The CLI as a whole: every command documented, errors as one line with exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from worklife.cli import app, main

README = Path(__file__).resolve().parents[1] / "README.md"


def command_names() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        names.extend(f"{name} {s}" for s in sub) if sub else names.append(name)
    return names


@pytest.mark.parametrize("name", command_names())
def test_every_command_is_in_the_readme(name):
    assert f"worklife {name} " in README.read_text(encoding="utf-8") or \
        f"worklife {name}\n" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help(name):
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_readme_starts_with_the_two_newcomer_commands():
    head = README.read_text(encoding="utf-8")[:400]
    assert head.index("make demo") < head.index("make test")


def test_missing_store_is_one_line_and_exit_1(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["metrics", "--db", str(tmp_path / "absent.duckdb")])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "absent.duckdb" in err and "Traceback" not in err


def test_unknown_option_is_bad_usage():
    result = CliRunner().invoke(app, ["metrics", "--no-such-flag"])
    assert result.exit_code == 2
