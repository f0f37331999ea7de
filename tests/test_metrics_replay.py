"""A batched run of everyone builds its graph once and replays its SQL for every batch
(``worklife.metrics.replay``, docs/performance.md pass 8).

Oracle: the same store computed in one batch (``metrics.batch_people`` 0), which builds
its graph without batch bounds. The stored rows must be equal row for row, for a full
run and for an incremental box of everyone (a week added); the number of Ibis compiles
must not grow with the number of batches (the speed lever), and nothing of the replay
(step tables, variables) is left on the connection.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
from _metrics_store import stored_rows
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler

from worklife.config import Config
from worklife.metrics import incremental
from worklife.metrics.replay import pk_ranges
from worklife.metrics.results import plan, refresh
from worklife.store import connect
from worklife.timezones import refresh_tz_offsets

synth = pytest.importorskip("worklife.synth")

START = date(2025, 3, 24)  # three weeks across Europe's spring DST change
TIME_COL = {"meetings": "start_utc", "messages": "sent_utc", "outcomes": "at_utc"}


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    org = synth.generate(people=48, weeks=3, seed=11, start=START)
    return {t: df.reset_index(drop=True) for t, df in synth.canonical_tables(org).items()}


def _store(tables: dict[str, pd.DataFrame], before: pd.Timestamp | None = None):
    """A store of the tables (with ``before``: only activity before it, and no attendees
    or recipients of later meetings and messages)."""
    store = connect(":memory:")
    keep = dict(tables)
    if before is not None:
        for t, col in TIME_COL.items():
            keep[t] = tables[t][pd.to_datetime(tables[t][col]) < before]
        keep["meeting_attendees"] = tables["meeting_attendees"][
            tables["meeting_attendees"].meeting_key.isin(keep["meetings"].meeting_key)]
        keep["message_recipients"] = tables["message_recipients"][
            tables["message_recipients"].message_key.isin(keep["messages"].message_key)]
    for t, df in keep.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    return store


def _config(batch: int) -> Config:
    config = Config()
    config.set("metrics.batch_people", batch)
    return config


def _left_behind(store) -> tuple[int, object]:
    """Step tables still on the connection, and the batch's lower bound variable."""
    tables = store.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%wl_batch%'").fetchall()
    return tables[0][0], store.con.execute("SELECT getvariable('wl_pk_lo')").fetchall()[0][0]


@pytest.fixture(scope="module")
def one_batch(tables) -> dict[str, list[tuple]]:
    store = _store(tables)
    refresh(store, _config(0), full=True)
    return stored_rows(store)


@pytest.mark.parametrize("batch", [10, 23])
def test_a_full_run_in_batches_equals_one_batch(tables, one_batch, batch):
    store = _store(tables)
    refresh(store, _config(batch), full=True)  # 5 or 3 batches of 48 people
    assert stored_rows(store) == one_batch
    assert len(one_batch["metric_days"]) > 48 * 7
    assert _left_behind(store) == (0, None)


def test_an_added_week_in_batches_equals_one_batch(tables, one_batch, monkeypatch):
    """The box of an added week is everyone (no person list): replayed in batches."""
    monkeypatch.setattr(incremental, "FULL_SHARE", 1e9)  # never fall back to a full run
    store = _store(tables, before=pd.Timestamp(START) + pd.Timedelta(days=14))
    config = _config(10)
    refresh(store, config, full=True)
    for t, df in tables.items():
        store.upsert(t, pa.Table.from_pandas(df, preserve_index=False))
    refresh_tz_offsets(store)
    jobs = plan(store, config).jobs
    assert jobs and all(j.persons is None for j in jobs)
    done = refresh(store, config)
    assert not done.full
    assert stored_rows(store) == one_batch


def test_the_graph_is_compiled_once_whatever_the_number_of_batches(tables, monkeypatch):
    compiles = []
    real = DuckDBCompiler.to_sqlglot

    def counted(self, *args, **kwargs):
        compiles.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DuckDBCompiler, "to_sqlglot", counted)
    counts = {}
    for batch in (24, 10, 5):  # 2, 5 and 10 batches
        store = _store(tables)
        compiles.clear()
        refresh(store, _config(batch), full=True)
        counts[batch] = len(compiles)
        store.close()
    assert counts[24] == counts[10] == counts[5], counts
    assert counts[24] > 0


def test_only_contiguous_key_ranges_are_replayed():
    people = pd.DataFrame({"person_id": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"],
                           "pk": [0, 1, 2, 3]})
    assert pk_ranges(people, [["a@example.com", "b@example.com"], ["c@example.com", "d@example.com"]]) == \
        [(0, 1), (2, 3)]
    assert pk_ranges(people, [["a@example.com", "c@example.com"], ["b@example.com"]]) is None
    assert pk_ranges(people, [["a@example.com", "x@example.com"]]) is None
