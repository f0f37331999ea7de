"""How long the guard keeps what it stores, and the purge the delivery worker runs.

A submission is *finished* when none of its copies is held or sending (each is
delivered, recalled or dead); ``finished_ms`` records when. Then, per the settings:

- its body (the raw MIME) is emptied ``guard.keep_delivered_days`` after that (default 0:
  in the next worker round), or ``guard.keep_dead_days`` (14) when a copy is dead, so the
  operator can still read a dead letter;
- its records (the submission and delivery rows: addresses, times, states, the
  idempotency key) are deleted ``guard.keep_records_days`` (30) after that, once the
  body is gone;
- urgent-release audit rows are deleted ``guard.keep_audit_days`` (365) after the release.

The queue connections run with ``secure_delete`` so the emptied pages are zeroed, and
after a purge that removed something the WAL is checkpointed and truncated (at most
once a minute), so old bodies do not linger in ``queue.sqlite-wal`` either.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

from worklife.guard.queue import Queue

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Retention:
    """Retention periods in days (``guard.keep_*``)."""

    delivered_days: float = 0.0
    dead_days: float = 14.0
    records_days: float = 30.0
    audit_days: float = 365.0


@dataclass
class PurgeReport:
    """What one purge removed: bodies emptied, submissions deleted, audit rows deleted."""

    bodies: int = 0
    records: int = 0
    audit: int = 0

    def __bool__(self) -> bool:
        return bool(self.bodies or self.records or self.audit)


def purge(queue: Queue, now_ms: int, keep: Retention) -> PurgeReport:
    """Empty the bodies and delete the records whose time is up, in one transaction."""
    cut_delivered = now_ms - int(keep.delivered_days * DAY_MS)
    cut_dead = now_ms - int(keep.dead_days * DAY_MS)
    cut_records = now_ms - int(keep.records_days * DAY_MS)
    cut_audit = now_ms - int(keep.audit_days * DAY_MS)

    def job(con: sqlite3.Connection) -> PurgeReport:
        bodies = con.execute(
            "UPDATE submissions SET raw=x'', purged_ms=? WHERE purged_ms IS NULL AND finished_ms IS NOT NULL "
            "AND finished_ms <= max(?, ?) AND ((has_dead=0 AND finished_ms<=?) OR (has_dead=1 AND finished_ms<=?))",
            (now_ms, cut_delivered, cut_dead, cut_delivered, cut_dead)).rowcount
        old = [r[0] for r in con.execute(
            "SELECT batch FROM submissions WHERE finished_ms IS NOT NULL AND finished_ms<=? "
            "AND purged_ms IS NOT NULL LIMIT 5000", (cut_records,))]
        for batch in old:
            con.execute("DELETE FROM deliveries WHERE batch=?", (batch,))
            con.execute("DELETE FROM submissions WHERE batch=?", (batch,))
        audit = con.execute("DELETE FROM urgent_log WHERE at_ms<=?", (cut_audit,)).rowcount
        return PurgeReport(bodies, len(old), audit)

    return queue.write(job)


class Purger:
    """Runs ``purge`` from the delivery loop and truncates the WAL after a purge (≤ once a minute)."""

    CHECKPOINT_EVERY_S = 60.0

    def __init__(self, queue: Queue, keep: Retention):
        self.queue = queue
        self.keep = keep
        self._dirty = False
        self._last_checkpoint = 0.0

    def run(self, now_ms: int) -> PurgeReport:
        report = purge(self.queue, now_ms, self.keep)
        if report:
            self._dirty = True
            log.info("purged %d bod(ies), %d record(s), %d audit row(s)", report.bodies, report.records,
                     report.audit)
        if self._dirty and time.monotonic() - self._last_checkpoint >= self.CHECKPOINT_EVERY_S:
            self.checkpoint()
        return report

    def checkpoint(self) -> None:
        """Copy the WAL into the file (secure_delete zeroes freed pages) and truncate it."""
        self._last_checkpoint = time.monotonic()
        try:
            busy = self.queue.read("PRAGMA wal_checkpoint(TRUNCATE)")[0][0]
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint after purge failed (retried later): %s", exc)
            return
        self._dirty = bool(busy)  # a reader in the way: try again next time
