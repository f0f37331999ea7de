"""The DuckDB -> Spark SQL rewrites of ``worklife.policy.sql.to_spark`` (no Spark needed),
and how `check --engine` refuses what it cannot run (docs/scale-out.md)."""

from __future__ import annotations

import pytest
from worklife.errors import ConfigError, StoreError
from worklife.policy import open_db
from worklife.policy.sql import to_spark


@pytest.mark.parametrize("duck, spark", [
    ("SELECT isodow(t) FROM x", "(WEEKDAY(t) + 1)"),
    ("SELECT t + to_seconds(o.utc_offset_s) FROM x", "t + MAKE_DT_INTERVAL(0, 0, 0, o.utc_offset_s)"),
    ("SELECT epoch(t) FROM x", "(CAST(UNIX_MICROS(t) AS DOUBLE) / 1000000)"),
    ("SELECT TIMESTAMP '2025-03-30 01:00:00' FROM x", "CAST('2025-03-30 01:00:00' AS TIMESTAMP_LTZ)"),
    ("SELECT strftime(d, '%G-W%V') FROM x",
     "CONCAT(CAST(YEAR(DATE_ADD(CAST(d AS DATE), 3 - WEEKDAY(CAST(d AS DATE)))) AS STRING), '-W', "
     "LPAD(CAST(WEEKOFYEAR(CAST(d AS DATE)) AS STRING), 2, '0'))"),
    ("SELECT strftime(t, '%Y-%m-%d %H:%M') FROM x", "DATE_FORMAT(t, 'yyyy-MM-dd HH:mm')"),
    ("SELECT epoch(least(p1, d + to_seconds(s))) FROM x",  # nested rewrites are applied too
     "(CAST(UNIX_MICROS(LEAST(p1, d + MAKE_DT_INTERVAL(0, 0, 0, s))) AS DOUBLE) / 1000000)"),
], ids=["isodow", "to_seconds", "epoch-keeps-fractions", "naive-timestamp-is-utc", "iso-week", "strftime",
        "nested"])
def test_duckdb_functions_become_their_spark_equivalents(duck, spark):
    assert spark in to_spark(duck)


def test_an_asof_join_on_tz_offsets_becomes_a_range_join():
    sql = to_spark("SELECT r.*, o.utc_offset_s FROM r JOIN pol_sched s ON s.person_id = r.person_id "
                   "ASOF JOIN pol_tz o ON o.tz = s.tz AND r.t >= o.valid_from_utc")
    assert "ASOF" not in sql
    assert "JOIN pol_tz AS o ON (o.tz = s.tz AND r.t >= o.valid_from_utc) AND r.t < o.valid_to_utc" in sql


def test_an_asof_join_without_a_validity_column_is_refused():
    with pytest.raises(StoreError, match="ASOF JOIN"):
        to_spark("SELECT * FROM a ASOF JOIN b ON a.k = b.k AND a.t >= b.t")


def test_a_parquet_folder_needs_the_spark_engine(tmp_path):
    with pytest.raises(ConfigError, match="use --engine spark"):
        open_db(tmp_path, "duckdb")


def test_an_unknown_engine_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown engine"):
        open_db(tmp_path, "polars")


@pytest.mark.parametrize("args, code, text", [
    (["--engine", "polars"], 2, "--engine must be duckdb or spark"),
    (["--engine", "duckdb"], 1, "no such store"),
], ids=["bad-engine", "missing-store"])
def test_check_engine_errors_are_one_line(tmp_path, capsys, args, code, text):
    from worklife.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["check", "--db", str(tmp_path / "none.duckdb"), "--policy", "auto", *args])
    assert exc.value.code == code
    err = capsys.readouterr().err
    assert text in err and len(err.strip().splitlines()) == 1


def test_without_pyspark_or_java_check_says_so_in_one_line(file_store, capsys, monkeypatch):
    """spark_session raises ConfigError when pyspark is missing or the JVM cannot start."""
    from worklife import storage
    from worklife.cli import main

    def no_spark(*args, **kwargs):
        raise ConfigError("--engine spark needs pyspark: pip install 'worklife[spark]'")

    monkeypatch.setattr(storage, "spark_session", no_spark)
    file_store.close()
    with pytest.raises(SystemExit) as exc:
        main(["check", "--db", file_store.path, "--policy", "auto", "--engine", "spark"])
    assert exc.value.code == 1
    assert "needs pyspark" in capsys.readouterr().err


def test_without_java_check_says_so_before_starting_spark(file_store, capsys, monkeypatch):
    from worklife.cli import main

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    file_store.close()
    with pytest.raises(SystemExit) as exc:
        main(["check", "--db", file_store.path, "--policy", "auto", "--engine", "spark"])
    assert exc.value.code == 1
    assert "needs Java" in capsys.readouterr().err


def test_boundaries_on_a_folder_without_spark_exits_1(tmp_path, capsys):
    from worklife.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["boundaries", "--db", str(tmp_path)])
    assert exc.value.code == 1
    assert "use --engine spark" in capsys.readouterr().err
