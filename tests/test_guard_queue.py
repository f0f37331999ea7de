"""The durable queue: WAL, atomic claims, leases, the indexed due-scan."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from worklife.errors import GuardError
from worklife.guard.queue import NewDelivery, Queue

NOW = 1_772_618_400_000  # 2026-03-04T10:00:00Z in ms


def add(queue: Queue, n: int, due_ms: int = NOW, recipient: str = "user02@example.com") -> list[int]:
    futures = [queue.add("sender01@example.com", b"Subject: x\r\n\r\nx\r\n",
                         [NewDelivery(recipient, "UTC", "hold", due_ms + i, due_ms + i)], NOW) for i in range(n)]
    return [i for f in futures for i in f.result()[0]]


@pytest.fixture
def queue(tmp_path):
    with Queue(tmp_path / "q.sqlite") as q:
        yield q


def test_the_queue_is_wal_with_full_sync(queue):
    con = sqlite3.connect(queue.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert queue.synchronous == "FULL"
    con.close()


def test_a_bad_synchronous_level_is_refused(tmp_path):
    with pytest.raises(GuardError, match="synchronous"):
        Queue(tmp_path / "q.sqlite", synchronous="OFF")


def test_only_due_rows_are_claimed_and_in_due_order(queue):
    early, late = add(queue, 1, NOW - 5000), add(queue, 1, NOW + 60_000)
    claimed = queue.claim(NOW, 10, 30_000)
    assert [c.id for c in claimed] == early
    assert queue.get(late[0])["state"] == "held" and queue.get(early[0])["state"] == "sending"


def test_two_workers_never_claim_the_same_row(tmp_path):
    """Two processes' worth of connections (two Queue objects on one file), four threads."""
    path = tmp_path / "q.sqlite"
    with Queue(path) as a, Queue(path) as b:
        ids = add(a, 2000)
        got: list[list[int]] = [[] for _ in range(4)]

        def work(q: Queue, slot: int) -> None:
            while True:
                batch = q.claim(NOW + 10_000, 37, 60_000)
                if not batch:
                    return
                got[slot].extend(c.id for c in batch)

        threads = [threading.Thread(target=work, args=(q, i)) for i, q in enumerate([a, b, a, b])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    flat = [i for g in got for i in g]
    assert len(flat) == len(set(flat)) == 2000 and set(flat) == set(ids)


def test_a_lost_claim_cannot_complete_after_its_lease_is_reclaimed(queue):
    add(queue, 1)
    (first,) = queue.claim(NOW, 1, 1000)
    assert queue.reclaim_expired(NOW + 999) == 0
    assert queue.reclaim_expired(NOW + 1000) == 1  # the worker died; the row is held again
    (second,) = queue.claim(NOW + 1000, 1, 1000)
    assert second.id == first.id and second.token != first.token
    assert queue.mark_delivered(first, NOW) is False  # the old owner cannot finish it
    assert queue.mark_delivered(second, NOW) is True
    assert queue.get(first.id)["state"] == "delivered"


def test_idempotency_key_stores_once(queue):
    row = [NewDelivery("user02@example.com", "UTC", "hold", NOW, NOW)]
    ids, replayed = queue.add("s@example.com", b"x", row, NOW, idempotency_key="k").result()
    again, replayed2 = queue.add("s@example.com", b"x", row, NOW, idempotency_key="k").result()
    assert (again, replayed, replayed2) == (ids, False, True)
    assert queue.counts()["held"] == 1


def test_one_failing_job_does_not_sink_its_group(queue):
    bad = queue.submit(lambda con: con.execute("INSERT INTO nowhere VALUES (1)"))
    good = add(queue, 1)
    with pytest.raises(sqlite3.OperationalError):
        bad.result()
    assert queue.get(good[0])["state"] == "held"


def test_the_due_scan_uses_the_partial_index(queue):
    plan = queue.read("EXPLAIN QUERY PLAN SELECT id FROM deliveries WHERE state='held' AND due_ms<=? "
                      "ORDER BY due_ms LIMIT 500", (NOW,))
    assert any("deliveries_due" in str(r[-1]) for r in plan)


def test_acknowledged_rows_survive_reopening(tmp_path):
    path = tmp_path / "q.sqlite"
    q = Queue(path)
    ids = add(q, 5)
    q.close()
    with Queue(path) as again:
        assert [again.get(i)["state"] for i in ids] == ["held"] * 5
