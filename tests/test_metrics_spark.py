"""The same expressions on PySpark local mode give the same person-weeks as on DuckDB.

The hand-built edge cases of test_metrics.py (DST nights, zone offsets, exclusions) on
Spark. Slow (minutes on 2 cores), so it runs only with ``WORKLIFE_SPARK_TESTS=1``;
tests/test_spark.py runs the synthetic-organisation equality check in every CI run.
"""

from __future__ import annotations

import os

import pytest
from _metrics_store import finish, meeting, message, person

from worklife.config import Config
from worklife.metrics import METRIC_COLUMNS, compute
from worklife.store import connect

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.mark.skipif(os.environ.get("WORKLIFE_SPARK_TESTS") != "1", reason="set WORKLIFE_SPARK_TESTS=1")
def test_spark_equals_duckdb_on_a_dst_week():
    pytest.importorskip("pyspark")
    s = connect(":memory:")
    p = person(s, "user99@example.com")
    a = person(s, "user01@example.com", tz="Europe/Paris")
    b = person(s, "user02@example.com", tz="Australia/Sydney")
    meeting(s, "2025-03-30 00:30", "2025-03-30 02:00", a, {p: "accepted", b: "accepted"})
    meeting(s, "2025-03-31 08:00", "2025-03-31 09:30", a, {p: "accepted"})
    message(s, "2025-03-31 20:00", a, to=[b])
    message(s, "2025-04-01 07:00", b, channel="chat", subject="#team")
    finish(s)
    duck = compute(s, Config()).set_index(["person_id", "week"]).sort_index()
    spark = compute(s, Config(), engine="spark").set_index(["person_id", "week"]).sort_index()
    assert list(duck.index) == list(spark.index)
    for c in METRIC_COLUMNS:
        assert (duck[c] == spark[c]).all(), c
