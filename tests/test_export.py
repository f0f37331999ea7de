"""`worklife export`: any table as CSV, JSON or Parquet; Parquet partitioned by ISO week for Spark."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.store import connect

runner = CliRunner()


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "store.duckdb")
    with connect(path) as s:
        s.upsert("messages", [
            {"message_key": f"m{i}", "channel": "email", "sender_id": "user01@example.com",
             "sent_utc": datetime(2024, 12, 29 + i, 23, 30) if i < 3 else datetime(2025, 1, 6, 0, 0),
             "subject_or_channel": f"subject, {i}", "is_auto": False} for i in range(4)])
        s.upsert("message_recipients", [{"message_key": "m0", "person_id": "user02@example.com", "kind": "to"}])
        s.upsert("quarantine", [{"source": "box", "location": "box:12", "reason": "truncated message"}])
    return path


def export(*args: str):
    return runner.invoke(app, ["export", *args])


def test_csv_to_stdout(db):
    result = export("messages", "--db", db)
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["message_key"] for r in rows] == ["m0", "m1", "m2", "m3"]
    assert rows[0]["subject_or_channel"] == "subject, 0" and rows[0]["sent_utc"] == "2024-12-29 23:30:00"


def test_json_is_an_array_of_objects(db, tmp_path):
    out = tmp_path / "q.json"
    assert export("quarantine", "--db", db, "--format", "json", "--out", str(out)).exit_code == 0
    [row] = json.loads(out.read_text())
    assert (row["location"], row["reason"]) == ("box:12", "truncated message")


def test_parquet_file_keeps_types(db, tmp_path):
    out = tmp_path / "m.parquet"
    assert export("messages", "--db", db, "--format", "parquet", "--out", str(out)).exit_code == 0
    t = pq.read_table(out)
    assert t.num_rows == 4 and t.column("sent_utc").to_pylist()[0] == datetime(2024, 12, 29, 23, 30)


def test_parquet_partitioned_by_iso_week(db, tmp_path):
    out = tmp_path / "messages"
    assert export("messages", "--db", db, "--format", "parquet", "--out", str(out),
                  "--partition-by-week").exit_code == 0
    # 2024-12-29 is in 2024-W52; 30 and 31 December 2024 belong to ISO year 2025, week 1
    assert sorted(p.name for p in out.iterdir()) == ["week=2024-W52", "week=2025-W01", "week=2025-W02"]
    assert pq.read_table(out / "week=2025-W01").num_rows == 2
    rec = tmp_path / "recipients"
    assert export("message_recipients", "--db", db, "--format", "parquet", "--out", str(rec),
                  "--partition-by-week").exit_code == 0
    assert [p.name for p in rec.iterdir()] == ["week=2024-W52"]


@pytest.mark.parametrize("args, code, message", [
    (["nope"], 2, "no table 'nope'"),
    (["messages", "--format", "parquet"], 2, "needs --out"),
    (["messages", "--partition-by-week"], 2, "needs --format parquet"),
    (["people", "--format", "parquet", "--out", "x", "--partition-by-week"], 1, "no time column"),
], ids=["unknown-table", "parquet-to-stdout", "partition-csv", "partition-people"])
def test_bad_requests(db, tmp_path, args, code, message):
    result = export(args[0], "--db", db, *args[1:])
    assert result.exit_code == code and message in result.stderr


def test_missing_store(tmp_path):
    result = export("messages", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1 and "no such store" in result.stderr
