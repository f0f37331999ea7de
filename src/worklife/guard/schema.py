"""The guard queue's SQLite schema, its upgrades, and how its files are kept private.

``SCHEMA`` creates the tables of a new file; ``migrate`` adds the columns that later
versions introduced (``ADDED_COLUMNS``) to a file made by an earlier one, then ``INDEXES``
(some of which use those columns) are created. ``secure_files`` makes the file and its
``-wal``/``-shm`` mode 0600.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time

from worklife.errors import GuardError

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    batch TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    idempotency_key TEXT,
    raw BLOB NOT NULL,
    accepted_ms INTEGER NOT NULL,
    via TEXT NOT NULL,
    identity TEXT,
    finished_ms INTEGER,
    has_dead INTEGER NOT NULL DEFAULT 0,
    purged_ms INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS submissions_idem
    ON submissions(sender, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT NOT NULL REFERENCES submissions(batch),
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    tz TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claim_token TEXT,
    lease_ms INTEGER,
    delivered_ms INTEGER,
    last_error TEXT,
    urgent_reason TEXT,
    urgent_text TEXT,
    identity TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due_ms) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS deliveries_lease ON deliveries(lease_ms) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS deliveries_batch ON deliveries(batch);
CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries(id) WHERE state = 'dead';
CREATE TABLE IF NOT EXISTS urgent_log (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    sender TEXT NOT NULL,
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    identity TEXT,
    actor TEXT
);
CREATE INDEX IF NOT EXISTS urgent_log_sender ON urgent_log(sender, at_ms);
"""
# Columns added after the first release: (table, column, declaration).
ADDED_COLUMNS = [
    ("submissions", "identity", "TEXT"), ("submissions", "finished_ms", "INTEGER"),
    ("submissions", "has_dead", "INTEGER NOT NULL DEFAULT 0"), ("submissions", "purged_ms", "INTEGER"),
    ("deliveries", "identity", "TEXT"), ("urgent_log", "identity", "TEXT"), ("urgent_log", "actor", "TEXT"),
]
INDEXES = """
CREATE INDEX IF NOT EXISTS submissions_purge ON submissions(finished_ms)
    WHERE purged_ms IS NULL AND finished_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS submissions_finished ON submissions(finished_ms) WHERE finished_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS urgent_log_identity ON urgent_log(identity, at_ms);
CREATE INDEX IF NOT EXISTS submissions_identity_idem ON submissions(identity, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS urgent_log_at ON urgent_log(at_ms);
"""
ACTIVE = "('held', 'sending')"
# Marks a batch finished (and whether a copy is dead) once none of its copies is active.
FINISH_BATCH = (
    "UPDATE submissions SET finished_ms=?, "
    "has_dead=EXISTS(SELECT 1 FROM deliveries WHERE batch=submissions.batch AND state='dead') "
    f"WHERE batch=? AND finished_ms IS NULL AND NOT EXISTS "
    f"(SELECT 1 FROM deliveries WHERE batch=submissions.batch AND state IN {ACTIVE})")


def now_ms() -> int:
    return int(time.time() * 1000)


def secure_files(path: str) -> None:
    """Create the queue file 0600 if missing; chmod it and its -wal/-shm to 0600.

    SQLite creates -wal and -shm with the database file's permissions, so a 0600 file
    keeps them private too.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        for p in (path, path + "-wal", path + "-shm", path + "-journal"):
            if os.path.exists(p):
                os.chmod(p, 0o600)
    except OSError as exc:
        raise GuardError(f"{path}: cannot create the guard queue with mode 0600: {exc.strerror or exc}", 500) from exc


def migrate(con: sqlite3.Connection) -> None:
    """Add the columns of ADDED_COLUMNS to a queue file made by an earlier version."""
    added = []
    for table, column, decl in ADDED_COLUMNS:
        have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            added.append(f"{table}.{column}")
    if not added:
        return
    stamp = now_ms()
    con.execute("UPDATE submissions SET identity=lower(sender) WHERE identity IS NULL")
    con.execute("UPDATE deliveries SET identity=lower(sender) WHERE identity IS NULL")
    con.execute("UPDATE urgent_log SET identity=lower(sender), actor=lower(sender) WHERE identity IS NULL")
    con.execute(f"UPDATE submissions SET finished_ms=?, has_dead=EXISTS(SELECT 1 FROM deliveries d WHERE "
                f"d.batch=submissions.batch AND d.state='dead') WHERE finished_ms IS NULL AND NOT EXISTS "
                f"(SELECT 1 FROM deliveries d WHERE d.batch=submissions.batch AND d.state IN {ACTIVE})", (stamp,))
    log.info("guard queue upgraded: added %s", ", ".join(added))
