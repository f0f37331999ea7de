"""The durable queue: SQLite in WAL mode, one writer thread, group commit.

Tables: ``submissions`` (one accepted message, raw MIME stored once), ``deliveries``
(one row per recipient copy, with its state and due instant) and ``urgent_log`` (the
audit of urgent releases). All instants are integer milliseconds since the Unix epoch, UTC.
``identity`` is the authenticated sender (lower-cased, aliases resolved) a row belongs to.

At rest: the file, its ``-wal`` and ``-shm`` are created 0600 (existing ones are chmod-ed),
and ``secure_delete`` zeroes the pages of purged bodies. A submission is ``finished``
once none of its copies is held or sending; ``worklife.guard.retention`` deletes its body
and, later, its records (``guard.keep_*`` settings).

States of a delivery::

    held ──claim──▶ sending ──upstream 250──▶ delivered
     ▲  │              │ temporary failure: back to held, due = now + backoff
     │  │              └ permanent failure or attempts exhausted ──▶ dead
     │  └─ recall ──▶ recalled
     └── lease expired (worker crashed while sending)

Durability: every write runs on the one writer thread inside ``BEGIN IMMEDIATE ...
COMMIT``; the future a caller waits on resolves only after COMMIT returned, so an
acknowledgement (SMTP 250, HTTP 202) always follows a commit. ``synchronous=FULL``
(default) fsyncs the WAL at each commit, so an acknowledged message survives a power
loss, not only a process crash; NORMAL survives kill -9 but may lose the last commits
on power loss. Concurrent writers are batched into one transaction (group commit), so
the fsync cost is shared.

Claims are atomic: one ``UPDATE ... WHERE state='held' AND due_ms <= now ... RETURNING``
moves rows to ``sending`` with a fresh claim token and a lease; completing a delivery
requires the same token, so two workers (threads or processes) never both own a row.
"""

from __future__ import annotations

import logging
import queue as _q
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from worklife.errors import GuardError
from worklife.guard.schema import FINISH_BATCH, INDEXES, SCHEMA, migrate, now_ms, secure_files

log = logging.getLogger(__name__)
T = TypeVar("T")

STATES = ("held", "sending", "delivered", "recalled", "dead")
COLUMNS = ("id, batch, sender, recipient, tz, mode, state, due_ms, window_ms, attempts, "
           "delivered_ms, last_error, urgent_reason, urgent_text, identity")


@dataclass(frozen=True)
class NewDelivery:
    """One recipient copy to insert: where it goes, in which mode, and when it is due."""

    recipient: str
    tz: str
    mode: str  # "hold" | "deliver_now"
    due_ms: int
    window_ms: int  # start of the recipient's next window at acceptance


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending; ``token`` proves ownership when completing it."""

    id: int
    batch: str
    sender: str
    recipient: str
    tz: str
    mode: str
    window_ms: int
    attempts: int
    urgent_reason: str | None
    raw: bytes
    token: str


class Queue:
    """An open guard queue at ``path``. Thread-safe; close it (or use ``with``)."""

    def __init__(self, path: str | Path, synchronous: str = "FULL", group_max: int = 512):
        self.path = str(path)
        sync = synchronous.upper()
        if sync not in ("FULL", "NORMAL", "EXTRA"):
            raise GuardError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}", 500)
        self.synchronous = sync
        self._group_max = group_max
        self._jobs: _q.SimpleQueue[tuple[Callable[[sqlite3.Connection], Any], Future] | None] = _q.SimpleQueue()
        self._local = threading.local()
        self._closed = False
        secure_files(self.path)
        con = self._connect()
        con.executescript(SCHEMA)
        migrate(con)
        con.executescript(INDEXES)
        self._writer_con = con
        self._writer = threading.Thread(target=self._write_loop, name="guard-queue-writer", daemon=True)
        self._writer.start()

    # -- connections ----------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise GuardError(f"{self.path}: cannot open guard queue: {exc}", 500) from exc
        if str(mode).lower() != "wal" and self.path != ":memory:":
            raise GuardError(f"{self.path}: could not switch the queue to WAL mode (got {mode})", 500)
        con.execute(f"PRAGMA synchronous={self.synchronous}")
        con.execute("PRAGMA busy_timeout=30000")
        con.execute("PRAGMA secure_delete=ON")  # purged bodies are overwritten, not just unlinked
        return con

    def _reader(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        return con

    def read(self, sql: str, params: Any = ()) -> list[tuple]:
        """Run a read-only query on this thread's own connection (WAL: never blocks the writer)."""
        return self._reader().execute(sql, params).fetchall()

    # -- the writer ------------------------------------------------------------------------
    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> Future:
        """Run ``fn(con)`` on the writer thread in a transaction; the future resolves after COMMIT."""
        if self._closed:
            raise GuardError("the guard queue is closed", 503)
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``submit`` and wait for the committed result."""
        return self.submit(fn).result()

    def _write_loop(self) -> None:
        con = self._writer_con
        while True:
            first = self._jobs.get()
            if first is None:
                break
            jobs = [first]
            stop = False
            while len(jobs) < self._group_max:
                try:
                    job = self._jobs.get_nowait()
                except _q.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
            self._run_group(con, jobs)
            if stop:
                break
        con.close()

    @staticmethod
    def _run_group(con: sqlite3.Connection, jobs: list) -> None:
        outcomes: list[tuple[Future, Any, BaseException | None]] = []
        try:
            con.execute("BEGIN IMMEDIATE")
            for fn, fut in jobs:
                if not fut.set_running_or_notify_cancel():
                    continue  # its caller went away (e.g. the SMTP client hung up): never run, never acked
                con.execute("SAVEPOINT job")
                try:
                    result = fn(con)
                    con.execute("RELEASE job")
                    outcomes.append((fut, result, None))
                except Exception as exc:  # noqa: BLE001 (one bad job must not sink the group)
                    con.execute("ROLLBACK TO job")
                    con.execute("RELEASE job")
                    outcomes.append((fut, None, exc))
            con.execute("COMMIT")
        except Exception as exc:
            log.exception("guard queue commit failed")
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            err = GuardError(f"queue write failed: {exc}", 503)
            for _, fut in jobs:
                if not fut.done():
                    fut.set_exception(err)
            return
        for fut, result, failure in outcomes:
            if failure is not None:
                fut.set_exception(failure)
            else:
                fut.set_result(result)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._writer.join(timeout=30)
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------------------
    def add(self, sender: str, raw: bytes, rows: list[NewDelivery], now_ms: int, *,
            idempotency_key: str | None = None, via: str = "library", batch: str | None = None,
            identity: str | None = None) -> Future:
        """Insert one submission and its recipient copies; future -> (ids, replayed).

        With an ``idempotency_key`` already used by this identity (``identity``, default the
        lower-cased sender: ``Bob@`` and ``bob@`` are one sender), nothing is inserted and
        the ids of the first submission are returned with ``replayed=True``.
        """
        batch = batch or uuid.uuid4().hex
        owner = (identity or sender).lower()

        def job(con: sqlite3.Connection) -> tuple[list[int], bool]:
            if idempotency_key is not None:
                row = con.execute("SELECT batch FROM submissions WHERE identity=? AND idempotency_key=?",
                                  (owner, idempotency_key)).fetchone()
                if row is not None:
                    ids = [r[0] for r in con.execute(
                        "SELECT id FROM deliveries WHERE batch=? ORDER BY id", (row[0],))]
                    return ids, True
            con.execute("INSERT INTO submissions (batch, sender, idempotency_key, raw, accepted_ms, via, identity)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", (batch, sender, idempotency_key, raw, now_ms, via, owner))
            ids = []
            for r in rows:
                cur = con.execute(
                    "INSERT INTO deliveries (batch, sender, recipient, tz, mode, state, due_ms, window_ms, identity)"
                    " VALUES (?, ?, ?, ?, ?, 'held', ?, ?, ?)",
                    (batch, sender, r.recipient, r.tz, r.mode, r.due_ms, r.window_ms, owner))
                ids.append(int(cur.lastrowid or 0))
            return ids, False

        return self.submit(job)

    def claim(self, now_ms: int, limit: int, lease_ms: int) -> list[Claimed]:
        """Atomically move up to ``limit`` due held rows to ``sending`` under a new token."""
        token = uuid.uuid4().hex

        def job(con: sqlite3.Connection) -> list[Claimed]:
            rows = con.execute(
                "UPDATE deliveries SET state='sending', claim_token=?, lease_ms=? "
                "WHERE id IN (SELECT id FROM deliveries WHERE state='held' AND due_ms<=? "
                "ORDER BY due_ms LIMIT ?) "
                "RETURNING id, batch, sender, recipient, tz, mode, window_ms, attempts, urgent_reason",
                (token, now_ms + lease_ms, now_ms, limit)).fetchall()
            raws: dict[str, bytes] = {}
            for b in {r[1] for r in rows}:
                raws[b] = con.execute("SELECT raw FROM submissions WHERE batch=?", (b,)).fetchone()[0]
            return [Claimed(id=r[0], batch=r[1], sender=r[2], recipient=r[3], tz=r[4], mode=r[5],
                            window_ms=r[6], attempts=r[7], urgent_reason=r[8], raw=raws[r[1]], token=token)
                    for r in sorted(rows)]

        return self.write(job)

    def _finish(self, sql: str, params: tuple) -> bool:
        return self.write(lambda con: con.execute(sql, params).rowcount == 1)

    def _final(self, sql: str, params: tuple, batch: str, at_ms: int) -> bool:
        """Move a copy to a final state; mark its submission finished when it was the last active one."""
        def job(con: sqlite3.Connection) -> bool:
            if con.execute(sql, params).rowcount != 1:
                return False
            con.execute(FINISH_BATCH, (at_ms, batch))
            return True
        return self.write(job)

    def mark_delivered(self, c: Claimed, now_ms: int) -> bool:
        """Record a successful send; False when the claim was lost (lease expired and reclaimed)."""
        return self._final(
            "UPDATE deliveries SET state='delivered', delivered_ms=?, attempts=attempts+1, "
            "claim_token=NULL, lease_ms=NULL, last_error=NULL WHERE id=? AND claim_token=?",
            (now_ms, c.id, c.token), c.batch, now_ms)

    def mark_retry(self, c: Claimed, due_ms: int, error: str) -> bool:
        """A temporary failure: back to held, due again at ``due_ms``."""
        return self._finish(
            "UPDATE deliveries SET state='held', due_ms=?, attempts=attempts+1, last_error=?, "
            "claim_token=NULL, lease_ms=NULL WHERE id=? AND claim_token=?",
            (due_ms, error[:1000], c.id, c.token))

    def mark_dead(self, c: Claimed, error: str, at_ms: int | None = None) -> bool:
        """A permanent failure or attempts exhausted: the visible dead-letter state."""
        return self._final(
            "UPDATE deliveries SET state='dead', attempts=attempts+1, last_error=?, "
            "claim_token=NULL, lease_ms=NULL WHERE id=? AND claim_token=?",
            (error[:1000], c.id, c.token), c.batch, now_ms() if at_ms is None else at_ms)

    def reschedule(self, c: Claimed, due_ms: int, tz: str) -> bool:
        """Hand a claimed row back unsent (the recipient is not in a window now)."""
        return self._finish(
            "UPDATE deliveries SET state='held', due_ms=?, tz=?, claim_token=NULL, lease_ms=NULL "
            "WHERE id=? AND claim_token=?", (due_ms, tz, c.id, c.token))

    def reclaim_expired(self, now_ms: int) -> int:
        """Rows left in ``sending`` by a crashed worker go back to held once their lease ends."""
        return self.write(lambda con: con.execute(
            "UPDATE deliveries SET state='held', claim_token=NULL, lease_ms=NULL "
            "WHERE state='sending' AND lease_ms<=?", (now_ms,)).rowcount)

    def recall(self, delivery_id: int, at_ms: int | None = None) -> bool:
        """Recall a held delivery; False when it is not held any more."""
        when = now_ms() if at_ms is None else at_ms

        def job(con: sqlite3.Connection) -> bool:
            row = con.execute("UPDATE deliveries SET state='recalled' WHERE id=? AND state='held' RETURNING batch",
                              (delivery_id,)).fetchone()
            if row is None:
                return False
            con.execute(FINISH_BATCH, (when, row[0]))
            return True

        return self.write(job)

    def urgent_used(self, identity: str, now_ms: int) -> int:
        """Urgent releases counted against ``identity`` in the 24 hours before ``now_ms``."""
        return self.read("SELECT count(*) FROM urgent_log WHERE identity=? AND at_ms>?",
                         (identity, now_ms - 86_400_000))[0][0]

    def release_urgent(self, delivery_id: int, sender: str, reason: str, text: str, now_ms: int,
                       per_day: int | None, identity: str | None = None, actor: str | None = None) -> str:
        """Make a held delivery due now, logged; returns 'released', 'not_held' or 'rate_limited'.

        The allowance (``per_day``; None: no limit, the operator) is counted per ``identity``
        (default: the lower-cased sender) over the last 24 hours.
        """
        owner = (identity or sender).lower()

        def job(con: sqlite3.Connection) -> str:
            used = con.execute("SELECT count(*) FROM urgent_log WHERE identity=? AND at_ms>?",
                               (owner, now_ms - 86_400_000)).fetchone()[0]
            if per_day is not None and used >= per_day:
                return "rate_limited"
            n = con.execute("UPDATE deliveries SET due_ms=?, urgent_reason=?, urgent_text=? "
                            "WHERE id=? AND state='held'", (now_ms, reason, text, delivery_id)).rowcount
            if n != 1:
                return "not_held"
            con.execute("INSERT INTO urgent_log (delivery_id, sender, reason, text, at_ms, identity, actor) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", (delivery_id, sender, reason, text, now_ms, owner,
                                                         actor or owner))
            return "released"

        return self.write(job)

    def replan(self, changes: list[tuple[int, int, str]]) -> int:
        """Set (id, due_ms, tz) on held rows (after a directory change); returns rows changed."""
        def job(con: sqlite3.Connection) -> int:
            return sum(con.execute("UPDATE deliveries SET due_ms=?, tz=? WHERE id=? AND state='held'",
                                   (due, tz, i)).rowcount for i, due, tz in changes)
        return self.write(job)

    # -- reads ----------------------------------------------------------------------------
    def get(self, delivery_id: int) -> dict[str, Any] | None:
        rows = self.read(f"SELECT {COLUMNS} FROM deliveries WHERE id=?", (delivery_id,))
        return dict(zip(COLUMNS.split(", "), rows[0])) if rows else None

    def deliveries(self, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries in ``state`` (all when None), newest first."""
        where, params = ("WHERE state=?", (state, limit)) if state else ("", (limit,))
        rows = self.read(f"SELECT {COLUMNS} FROM deliveries {where} ORDER BY id DESC LIMIT ?", params)
        return [dict(zip(COLUMNS.split(", "), r)) for r in rows]

    def counts(self) -> dict[str, int]:
        """Number of deliveries per state."""
        out = {s: 0 for s in STATES}
        out.update(dict(self.read("SELECT state, count(*) FROM deliveries GROUP BY state")))
        return out

    def find_due(self, now_ms: int, limit: int = 500) -> list[int]:
        """Ids of held rows due at ``now_ms``, earliest first (the indexed due-scan)."""
        return [r[0] for r in self.read(
            "SELECT id FROM deliveries WHERE state='held' AND due_ms<=? ORDER BY due_ms LIMIT ?",
            (now_ms, limit))]

    def next_due_ms(self) -> int | None:
        """Earliest due instant among held rows (ms), or None."""
        row = self.read("SELECT min(due_ms) FROM deliveries WHERE state='held'")
        return row[0][0] if row else None

    def held(self, limit: int = 10_000, after_id: int = 0) -> list[tuple[int, str, str, int]]:
        """(id, recipient, mode, due_ms) of held rows by id, for re-planning in pages."""
        return self.read("SELECT id, recipient, mode, due_ms FROM deliveries "
                         "WHERE state='held' AND id>? AND urgent_reason IS NULL ORDER BY id LIMIT ?",
                         (after_id, limit))

