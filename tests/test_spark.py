"""The metric expressions give the same person-weeks on Spark (local mode) as on DuckDB.

A synthetic organisation across the EU and US daylight-saving changes of March 2025,
loaded into a store, run through ``worklife.metrics.compute`` on both engines: every
metric column equal to the second (values in hours are compared exactly, as seconds).
Skips only when Java or pyspark is missing. About 2–4 minutes on a loaded 2-core
machine (Spark runs ~100 small jobs; the data is tiny).
"""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest

from worklife.config import Config
from worklife.metrics import METRIC_COLUMNS, compute
from worklife.store import connect
from worklife.synth import generate, load_into_store

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("Spark needs Java (no `java` on PATH)", allow_module_level=True)
pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'worklife[spark]'")


@pytest.fixture(scope="module")
def session(spark):
    """The run's local Spark session (conftest ``spark``; the metric code reuses it)."""
    return spark


@pytest.fixture(scope="module")
def dst_store():
    """48 synthetic people (the minimum) × 2 weeks from 2025-03-24: Europe changes clocks on 30 March."""
    s = connect(":memory:")
    load_into_store(generate(people=48, weeks=2, seed=3, start=date(2025, 3, 24)), s)
    yield s
    s.close()


def _in_seconds(df: pd.DataFrame) -> pd.DataFrame:
    out = df.set_index(["person_id", "week"]).sort_index()
    for c in METRIC_COLUMNS:
        if out[c].dtype.kind == "f":
            out[c] = (out[c] * 3600).round().astype("int64")
    return out


def test_spark_equals_duckdb_for_every_metric_column(session, dst_store):
    duck = _in_seconds(compute(dst_store, Config()))
    spark = _in_seconds(compute(dst_store, Config(), engine="spark"))
    assert len(duck) > 0 and duck["meeting_hours"].sum() > 0
    assert list(spark.index) == list(duck.index)
    differing = [c for c in METRIC_COLUMNS if not (spark[c] == duck[c]).all()]
    assert differing == []


def test_a_week_partitioned_export_folder_loads_as_the_store_tables(session, dst_store, tmp_path):
    """Folders as `worklife export TABLE --format parquet --partition-by-week` writes them."""
    from worklife.metrics.spark import CANONICAL, load_parquet, write_parquet

    root = tmp_path / "tables"
    write_parquet(dst_store.con, root, tables=("people", "meeting_attendees", "messages",
                                               "message_recipients", "outcomes", "tz_offsets"))
    (root / "meetings").mkdir()
    dst_store.con.execute(f"COPY (SELECT *, strftime(start_utc, '%G-W%V') AS week FROM meetings) "
                          f"TO '{root / 'meetings'}' (FORMAT parquet, PARTITION_BY (week))")
    assert sorted(load_parquet(session, root)) == sorted(CANONICAL)
    got = session.sql("SELECT meeting_key, start_utc FROM meetings").toPandas()
    want = dst_store.con.execute("SELECT meeting_key, start_utc FROM meetings").df()
    assert "week" not in session.table("meetings").columns
    got = got.sort_values("meeting_key").reset_index(drop=True)
    want = want.sort_values("meeting_key").reset_index(drop=True)
    assert (pd.to_datetime(got.start_utc) == pd.to_datetime(want.start_utc)).all()  # UTC kept
