"""docs/configuration.md is generated from the settings registry and kept current."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import SETTINGS
from worklife.config_docs import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_md_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/configuration.md is stale: run `worklife config docs --out docs/configuration.md`"


def test_every_setting_is_documented_once_with_its_unit():
    text = render()
    for s in SETTINGS:
        assert text.count(f"| `{s.name}` |") == 1, s.name


def test_pipes_in_regex_defaults_do_not_break_the_table():
    for line in render().splitlines():
        if line.startswith("| `metrics.status_title_patterns`"):
            assert line.replace("\\|", "").count("|") == 5  # four cells


def test_cli_prints_and_writes_the_page(tmp_path):
    res = CliRunner().invoke(app, ["config", "docs"])
    assert res.exit_code == 0 and res.output == render()
    out = tmp_path / "configuration.md"
    res = CliRunner().invoke(app, ["config", "docs", "--out", str(out)])
    assert res.exit_code == 0 and out.read_text(encoding="utf-8") == render()
