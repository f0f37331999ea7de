"""metrics.memory_limit: DuckDB's limit lowered for a metric run, restored after, never raised;
the automatic checkpoint deferred while an incremental refresh computes, restored after."""

from __future__ import annotations

import duckdb
import pytest

from worklife.config import Config
from worklife.errors import ConfigError
from worklife.metrics.resources import DEFERRED_CHECKPOINT_THRESHOLD, checkpoint_deferred, limited, size_bytes


def _setting(con: duckdb.DuckDBPyConnection, name: str):
    return con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_limit_lowered_during_the_run_and_restored_after() -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '8GB'")
    before = _setting(con, "memory_limit")
    cfg = Config({"metrics.memory_limit": "1GB"})
    with limited(con, cfg):
        assert size_bytes(_setting(con, "memory_limit")) <= 10**9
        assert _setting(con, "preserve_insertion_order") is False
    assert _setting(con, "memory_limit") == before
    assert _setting(con, "preserve_insertion_order") is True


def test_default_limit_restored_exactly() -> None:
    con = duckdb.connect()
    default = _setting(con, "memory_limit")
    with limited(con, Config({"metrics.memory_limit": "512MB"})):
        assert size_bytes(_setting(con, "memory_limit")) <= 512 * 10**6
    assert _setting(con, "memory_limit") == default


def test_a_lower_limit_of_the_caller_is_kept() -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '256MB'")
    before = _setting(con, "memory_limit")
    with limited(con, Config({"metrics.memory_limit": "4GB"})):
        assert _setting(con, "memory_limit") == before
    with limited(con, Config({"metrics.memory_limit": ""})):  # empty: DuckDB's own limit
        assert _setting(con, "memory_limit") == before


def test_limit_restored_when_the_run_fails() -> None:
    con = duckdb.connect()
    default = _setting(con, "memory_limit")
    with pytest.raises(RuntimeError), limited(con, Config({"metrics.memory_limit": "1GB"})):
        raise RuntimeError("batch failed")
    assert _setting(con, "memory_limit") == default


@pytest.mark.parametrize("before", [None, "64MB"])
def test_checkpoint_deferred_and_restored(before) -> None:
    con = duckdb.connect()
    if before:
        con.execute(f"SET checkpoint_threshold = '{before}'")
    shown = _setting(con, "checkpoint_threshold")
    with pytest.raises(RuntimeError), checkpoint_deferred(con):
        assert size_bytes(_setting(con, "checkpoint_threshold")) >= size_bytes(DEFERRED_CHECKPOINT_THRESHOLD) * 0.9
        raise RuntimeError("box failed")
    assert _setting(con, "checkpoint_threshold") == shown


def test_a_refresh_leaves_the_checkpoint_threshold_as_it_was(tmp_path, monkeypatch) -> None:
    from _metrics_store import finish, message, person

    from worklife.metrics import incremental
    from worklife.metrics.results import refresh
    from worklife.store import connect

    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # the second refresh is incremental

    with connect(tmp_path / "s.duckdb") as store:
        person(store, "ann@example.com")
        person(store, "bob@example.com")
        message(store, "2025-03-05 15:00", "ann@example.com", ["bob@example.com"])
        finish(store)
        shown = _setting(store.con, "checkpoint_threshold")
        refresh(store, Config())
        message(store, "2025-03-06 15:00", "bob@example.com", ["ann@example.com"])
        done = refresh(store, Config())
        assert not done.full and done.jobs
        assert _setting(store.con, "checkpoint_threshold") == shown


@pytest.mark.parametrize("text, expected", [("4GB", 4 * 10**9), ("18.8 GiB", int(18.8 * 2**30)),
                                            ("512MB", 512 * 10**6), ("100", 100)])
def test_sizes(text: str, expected: int) -> None:
    assert size_bytes(text) == expected


@pytest.mark.parametrize("text", ["lots", "4 parsecs", "-1GB"])
def test_bad_size_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="metrics.memory_limit"):
        size_bytes(text)
