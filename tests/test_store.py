"""The canonical store: schema, versioning, idempotent upserts."""

from __future__ import annotations

from datetime import datetime

import pytest

from worklife.errors import StoreError
from worklife.store import SCHEMA_VERSION, TABLES, connect


def test_new_store_has_every_canonical_table(store):
    names = {r[0] for r in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert set(TABLES) <= names
    assert store.con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_upsert_twice_changes_nothing(store):
    row = {"message_key": "m1", "channel": "email", "sender_id": "user01@example.com",
           "sent_utc": datetime(2025, 3, 3, 9, 0), "subject_or_channel": "hello"}
    assert store.upsert("messages", [row]) == (1, 0)
    assert store.upsert("messages", [row]) == (0, 1)
    assert store.count("messages") == 1


def test_upsert_update_overwrites_non_key_columns(store):
    store.upsert("people", [{"person_id": "user01@example.com", "team": "Atlas", "is_internal": True}])
    store.upsert("people", [{"person_id": "user01@example.com", "team": "Borealis", "is_internal": True}],
                 update=True)
    assert store.con.execute("SELECT team FROM people").fetchone()[0] == "Borealis"


def test_duplicate_keys_within_one_batch_count_once(store):
    rows = [{"alias": "u1", "person_id": "a"}, {"alias": "u1", "person_id": "b"}]
    assert store.upsert("person_aliases", rows) == (1, 0)
    assert store.con.execute("SELECT person_id FROM person_aliases").fetchone()[0] == "b"


def test_store_survives_reopen(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as s:
        s.upsert("people", [{"person_id": "user01@example.com", "is_internal": True}])
    with connect(path) as s:
        assert s.count("people") == 1


def test_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as s:
        s.con.execute("INSERT INTO schema_version VALUES (999, NULL)")
    with pytest.raises(StoreError, match="schema version 999"):
        connect(path)


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        connect(tmp_path / "absent.duckdb", create=False)


def test_non_duckdb_file_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk.duckdb"):
        connect(path)
