"""The settings registry and worklife.toml."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import SETTINGS, Config, load_config
from worklife.errors import ConfigError


def test_every_setting_has_unit_and_help():
    for s in SETTINGS:
        assert s.unit and s.help, s.name
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_toml_overrides_defaults(tmp_path):
    path = tmp_path / "worklife.toml"
    path.write_text('[metrics]\nemail_sent_minutes = 4\n[privacy]\nmin_group_size = 5\n')
    cfg = load_config(path)
    assert cfg["metrics.email_sent_minutes"] == 4.0
    assert cfg["privacy.min_group_size"] == 5
    assert cfg["metrics.email_received_minutes"] == 2.5


@pytest.mark.parametrize(
    "text, message",
    [("[metrics]\nno_such_thing = 1\n", "unknown setting 'metrics.no_such_thing'"),
     ("[metrics]\nemail_sent_minutes = 'five'\n", "must be a number"),
     ("[metrics\n", "invalid TOML")],
    ids=["unknown-key", "wrong-type", "bad-toml"],
)
def test_bad_config_names_the_file(tmp_path, text, message):
    path = tmp_path / "worklife.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_config_show_prints_values_in_force(tmp_path):
    path = tmp_path / "worklife.toml"
    path.write_text('[privacy]\nmin_group_size = 7\n')
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path), "--json"])
    assert result.exit_code == 0
    assert '"privacy.min_group_size": 7' in result.output


def test_missing_config_file_exits_1_with_one_line(tmp_path):
    from worklife.cli import main

    with pytest.raises(SystemExit) as info:
        main(["config", "show", "--config", str(tmp_path / "absent.toml")])
    assert info.value.code == 1


def test_section_strips_prefix():
    assert Config().section("privacy")["min_group_size"] == 10
