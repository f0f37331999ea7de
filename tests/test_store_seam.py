"""One store seam (issue 17): every stage opens its input through ``worklife.storage.open_store``
and reads it through the Store's query API; the CLI holds no SQL.

The source checks read the code (``ast``), so a new ``duckdb.connect``, a new use of the raw
connection or SQL in a CLI module fails here with the file and line to fix.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from worklife.errors import ConfigError, StoreError
from worklife.storage import open_store, stage_spark
from worklife.store import SCHEMA_VERSION, connect

PKG = Path(__file__).resolve().parents[1] / "src" / "worklife"

# Modules that open a DuckDB connection themselves: the store, and the in-memory views over
# a folder of Parquet tables that ``open_store`` builds.
CONNECT_ALLOWED = {"store.py", "storage.py"}

# ``<x>.con`` outside store.py, with the reason each use needs the raw connection.
# The number is the most uses allowed, so a new one has to be argued for here.
CON_ALLOWED = {
    "metrics/engine.py": (1, "Ibis wraps the connection itself (ibis.duckdb.from_connection)"),
    "metrics/results.py": (1, ("stored results keep their state tables through worklife.touched, "
                               "which works on the connection inside the store's write path")),
    "ingest/__init__.py": (1, ("touched.record_relink records relinked people for incremental "
                               "metrics on the connection, as Store.upsert does")),
}

SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TEMP\s+)?"
                 r"(TABLE|VIEW))\b", re.IGNORECASE | re.DOTALL)


def sources() -> dict[str, ast.Module]:
    return {p.relative_to(PKG).as_posix(): ast.parse(p.read_text(encoding="utf-8"), str(p))
            for p in sorted(PKG.rglob("*.py"))}


ALL = sources()


def test_only_the_seam_opens_duckdb():
    found = [f"{name}:{node.lineno}" for name, tree in ALL.items() if name not in CONNECT_ALLOWED
             for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "connect"
             and isinstance(node.value, ast.Name) and node.value.id == "duckdb"]
    assert found == [], "open stores with worklife.storage.open_store (or store.connect), not duckdb.connect"


def test_the_raw_connection_stays_inside_the_store():
    """Stages call store.rows/scalar/frame/arrow/run/registered, not ``store.con.execute``."""
    uses: dict[str, list[int]] = {}
    for name, tree in ALL.items():
        if name == "store.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "con" and isinstance(node.ctx, ast.Load):
                uses.setdefault(name, []).append(node.lineno)
    over = {name: lines for name, lines in uses.items() if len(lines) > CON_ALLOWED.get(name, (0, ""))[0]}
    assert over == {}, "use the Store's query API (worklife.store.Store.rows …) or argue in CON_ALLOWED"
    unused = sorted(set(CON_ALLOWED) - set(uses))
    assert unused == [], "drop allow-list entries that are no longer needed"


def test_the_cli_holds_no_sql():
    found = []
    for name, tree in ALL.items():
        if not name.startswith("cli/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                found.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr == "con":
                found.append(f"{name}:{node.lineno} (.con)")
    assert found == [], "queries live with the store or the stage that owns them"


def test_the_engines_open_through_the_seam():
    """metrics' open_backend and policy's open_db call open_store (the schema check, one staging)."""
    for name in ("metrics/engine.py", "policy/sql.py"):
        calls = {n.func.id for n in ast.walk(ALL[name]) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "open_store" in calls, name


# -- behaviour ------------------------------------------------------------------------------

def _store_file(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with connect(path) as store:
        store.upsert("people", [{"person_id": "alice@example.com", "email": "alice@example.com"}])
    return path


def test_a_file_that_is_no_store_is_refused_by_every_engine(tmp_path):
    from worklife.metrics.engine import open_backend
    from worklife.policy import open_db

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE people (person_id VARCHAR)")  # looks like one, but has no schema version
    con.close()
    for opener in (lambda: open_store(other), lambda: open_backend(other), lambda: open_db(other)):
        with pytest.raises(StoreError, match="not a worklife store"):
            opener()
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StoreError, match="notes.txt: cannot open store: not a worklife store"):
        open_store(text)


def test_a_newer_schema_is_refused_when_read(tmp_path):
    path = _store_file(tmp_path)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, NULL)", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        open_store(path)
    from worklife.metrics.engine import open_backend

    with pytest.raises(StoreError, match="schema version"):
        open_backend(path)  # metrics used to open it with a bare duckdb.connect


def test_an_older_store_is_migrated_when_opened_for_writing(tmp_path):
    path = _store_file(tmp_path)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM schema_version")
    con.execute("INSERT INTO schema_version VALUES (1, NULL)")
    con.execute("ALTER TABLE messages DROP COLUMN sent_offset_s")
    con.close()
    with open_store(path) as store:  # read-only: read as it is
        assert "sent_offset_s" not in store.columns("messages")
    with open_store(path, write=True) as store:
        assert "sent_offset_s" in store.columns("messages")
        assert store.scalar("SELECT max(version) FROM schema_version") == SCHEMA_VERSION


def test_missing_path_and_unknown_engine_say_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="worklife ingest"):
        open_store(tmp_path / "none.duckdb")
    with pytest.raises(ConfigError, match="unknown engine"):
        open_store(tmp_path, engine="sqlite")
    with pytest.raises(ConfigError, match="use --engine spark"):
        open_store(tmp_path)


def test_a_borrowed_store_stays_open_for_its_owner(tmp_path):
    with connect(_store_file(tmp_path), read_only=True) as store:
        with open_store(store) as borrowed:
            assert borrowed.find_person("ALICE@example.com") == "alice@example.com"
        assert store.scalar("SELECT count(*) FROM people") == 1  # still open


def test_query_api_reads_like_duckdb(tmp_path):
    with connect(_store_file(tmp_path)) as store:
        assert store.rows("SELECT person_id FROM people") == [("alice@example.com",)]
        assert store.row("SELECT person_id FROM people WHERE person_id = ?", ["nobody"]) is None
        assert store.scalar("SELECT count(*) FROM people WHERE email = $e", {"e": "alice@example.com"}) == 1
        assert list(store.frame("SELECT person_id FROM people")["person_id"]) == ["alice@example.com"]
        import pyarrow as pa

        with store.registered("_t", pa.table({"x": [1, 2]})):
            assert store.scalar("SELECT sum(x) FROM _t") == 3
        with pytest.raises(duckdb.CatalogException):
            store.rows("SELECT * FROM _t")  # unregistered on leaving the block
        assert store.find_person("nobody@example.com") is None


def test_spark_staging_happens_once_per_store_and_again_after_a_write(tmp_path, monkeypatch):
    """Policy and metrics share one staging of a store (no Spark needed: the session is faked)."""
    from worklife import storage

    class Conf:
        def get(self, key):
            return "UTC"

    class Ctx:
        master = "local[2]"

    class Session:
        conf, sparkContext = Conf(), Ctx()

    writes: list[Path] = []
    monkeypatch.setenv("JAVA_HOME", "/fake")
    monkeypatch.setattr(storage, "spark_session", lambda *a, **k: Session())
    monkeypatch.setattr(storage, "write_parquet", lambda store, out: writes.append(out) or out)
    monkeypatch.setattr(storage, "load_parquet", lambda session, d: [])
    with connect(_store_file(tmp_path)) as store:
        first = stage_spark(store)
        with open_store(store, engine="spark") as again:
            assert stage_spark(again) is first
        assert len(writes) == 1
        store.upsert("people", [{"person_id": "bob@example.com"}])
        assert stage_spark(store) is not first
        assert len(writes) == 2
