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


# -- metrics.memory_limit: a DuckDB size, checked where every setting is checked --------------


@pytest.mark.parametrize("value", ["lots", "4 parsecs", "-1GB", "0GB", 4, "4GB extra"])
def test_a_bad_memory_limit_is_refused_naming_the_setting_and_a_valid_value(value):
    from worklife.errors import SettingError

    with pytest.raises(SettingError, match=r"metrics\.memory_limit must be a size such as 4GB") as info:
        Config({"metrics.memory_limit": value})
    assert repr(value) in str(info.value) and info.value.exit_code == 2


@pytest.mark.parametrize("value", ["4GB", "512 MiB", "18.8GiB", "1000000000", ""])
def test_good_memory_limits_are_kept(value):
    assert Config({"metrics.memory_limit": value})["metrics.memory_limit"] == value


def _store(tmp_path):
    from worklife.store import connect

    db = tmp_path / "w.duckdb"
    connect(db).close()
    return db


@pytest.mark.parametrize("command", [["config", "show"], ["metrics", "--db", "{db}"],
                                     ["report", "--db", "{db}", "--out", "{tmp}/r.html"],
                                     ["ingest", "--db", "{db}", "{tmp}/none"],
                                     ["check", "--db", "{db}", "--policy", "auto"],
                                     ["digest", "--db", "{db}", "--team", "Team A", "--week", "2025-W10"],
                                     ["users", "list", "--db", "{db}"]])
def test_every_command_exits_2_on_a_bad_setting_in_the_config_file(tmp_path, capsys, command):
    from worklife.cli import main

    db = _store(tmp_path)
    cfg = tmp_path / "worklife.toml"
    cfg.write_text('[metrics]\nmemory_limit = "lots"\n')
    argv = [a.replace("{db}", str(db)).replace("{tmp}", str(tmp_path)) for a in command]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--config", str(cfg)])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2, err
    assert err == (f"error: {cfg}: metrics.memory_limit must be a size such as 4GB or 512MB "
                   "(empty: DuckDB's default), not 'lots'")


@pytest.mark.parametrize("text", ["[metrics]\nno_such_thing = 1\n", "[metrics]\nemail_sent_minutes = 'five'\n",
                                  "[metrics\n"], ids=["unknown-key", "wrong-type", "bad-toml"])
def test_any_bad_setting_is_bad_usage_exit_2(tmp_path, capsys, text):
    from worklife.cli import main

    cfg = tmp_path / "worklife.toml"
    cfg.write_text(text)
    with pytest.raises(SystemExit) as info:
        main(["config", "show", "--config", str(cfg)])
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
