"""Every metric equals the synthetic organisation's independent oracle, to the second.

``worklife.synth.truth.person_week_metrics`` implements docs/metrics.md in plain Python
with ``zoneinfo``; the engine runs Ibis on DuckDB over the same rows loaded into a store.
Two windows of six weeks cover DST changes in both hemispheres (Europe and the US in
March and October/November, Sydney in April and October) and the planted behaviours;
a two-week org has two identical meetings for one person (a tie in the union's sweep)
and is measured in batches of 20 people (``metrics.batch_people``), which must not
change any number.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from worklife.config import Config
from worklife.metrics import METRIC_COLUMNS, compute
from worklife.store import connect

synth = pytest.importorskip("worklife.synth")


@pytest.fixture(
    scope="module",
    params=[(date(2025, 3, 3), 6, 3, 0), (date(2025, 9, 29), 6, 3, 0), (date(2025, 3, 3), 2, 3, 20)],
    ids=["spring-dst", "autumn-dst", "two-weeks-duplicate-meetings-in-batches"],
)
def both(request):
    start, weeks, seed, batch = request.param
    org = synth.generate(people=48, weeks=weeks, seed=seed, start=start)
    store = connect(":memory:")
    synth.load_into_store(org, store)
    truth = synth.person_week_metrics(org, Config())
    config = Config()
    config.set("metrics.batch_people", batch)
    ours = compute(store, config)
    store.close()
    return truth, ours


def test_same_person_weeks(both):
    truth, ours = both
    key = ["person_id", "week"]
    assert sorted(map(tuple, truth[key].values)) == sorted(map(tuple, ours[key].values))
    assert len(ours) > 0


@pytest.mark.parametrize("column", [c for c in METRIC_COLUMNS if c != "weekend_collaboration_hours"])
def test_metric_equals_the_oracle_to_the_second(both, column):
    truth, ours = both
    m = truth.merge(ours, on=["person_id", "week"], suffixes=("_truth", "_ours"))
    a, b = m[f"{column}_truth"], m[f"{column}_ours"]
    if column.endswith("hours") or column == "workweek_span":
        a, b = (a * 3600).round().astype("int64"), (b * 3600).round().astype("int64")
    bad = m.loc[a.values != b.values, ["person_id", "week", f"{column}_truth", f"{column}_ours"]]
    assert bad.empty, f"{len(bad)} person-weeks differ:\n{bad.head(5).to_string()}"


def test_week_starts_are_local_mondays(both):
    truth, ours = both
    m = truth.merge(ours, on=["person_id", "week"])
    assert (pd.to_datetime(m.week_start_x) == pd.to_datetime(m.week_start_y)).all()


@pytest.mark.parametrize("minutes", [15, 20, 60])
def test_active_hours_with_other_block_sizes_equal_the_oracle(minutes):
    """Active blocks are counted as bits of a day's mask words (``metrics.span``): blocks
    shorter than 24 minutes need several words a day (15 minutes: 96 blocks), an hour one."""
    org = synth.generate(people=48, weeks=2, seed=5, start=date(2025, 3, 24))  # Europe's spring DST
    store = connect(":memory:")
    synth.load_into_store(org, store)
    config = Config()
    config.set("metrics.active_block_minutes", minutes)
    truth = synth.person_week_metrics(org, config)
    ours = compute(store, config)
    store.close()
    m = truth.merge(ours, on=["person_id", "week"], suffixes=("_truth", "_ours"))
    assert len(m) == len(truth) > 0
    a = (m["active_connected_hours_truth"] * 3600).round().astype("int64")
    b = (m["active_connected_hours_ours"] * 3600).round().astype("int64")
    assert (a.values == b.values).all()
    assert (m["active_connected_hours_ours"] > 0).any()


def test_chat_sessions_that_overlap_equal_the_oracle():
    """A chat message credited longer than the session gap (30 s against 15 s) makes chat
    sessions overlap: they are then united before joining collaboration's families
    (``intervals.sweep_families`` needs each family disjoint)."""
    org = synth.generate(people=48, weeks=2, seed=7, start=date(2025, 3, 24))
    store = connect(":memory:")
    synth.load_into_store(org, store)
    config = Config()
    config.set("metrics.chat_session_gap_minutes", 0.25)
    truth = synth.person_week_metrics(org, config)
    ours = compute(store, config)
    store.close()
    m = truth.merge(ours, on=["person_id", "week"], suffixes=("_truth", "_ours"))
    assert len(m) == len(truth) > 0
    for column in ("chat_hours", "after_hours_chat_hours", "collaboration_hours", "uninterrupted_hours"):
        a = (m[f"{column}_truth"] * 3600).round().astype("int64")
        b = (m[f"{column}_ours"] * 3600).round().astype("int64")
        assert (a.values == b.values).all(), column
    assert (m["chat_hours_ours"] > 0).any()
