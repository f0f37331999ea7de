"""Data at rest: the queue files are private (0600), bodies are purged once delivered,
dead letters and records are kept only for their set time, old queue files are upgraded,
and a caller that gives up cannot kill the queue's writer thread."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time

from test_guard_support import SENDER, people_csv, service, sink, tokens_file, utc  # noqa: F401 (fixtures)

from worklife.guard.delivery import Deliverer
from worklife.guard.intake import enqueue
from worklife.guard.queue import NewDelivery, Queue
from worklife.guard.retention import Retention, purge

MARKER = "body-marker-5f1c9e"
DAY_MS = 86_400_000


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_queue_and_its_wal_and_shm_are_0600(tmp_path):
    old = os.umask(0o022)  # the usual umask would give 0644
    try:
        with Queue(tmp_path / "q.sqlite") as q:
            q.add(SENDER, b"Subject: x\r\n\r\nsecret\r\n", [NewDelivery("a@example.com", "UTC", "hold", 0, 0)],
                  0).result()
            files = [q.path, q.path + "-wal", q.path + "-shm"]
            assert all(os.path.exists(f) for f in files)
            assert [mode(f) for f in files] == [0o600, 0o600, 0o600]
    finally:
        os.umask(old)


def test_existing_world_readable_queue_files_are_made_private(tmp_path):
    path = str(tmp_path / "q.sqlite")
    with Queue(path):
        pass
    con = sqlite3.connect(path)  # leave a -wal and -shm behind, then open them up
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("INSERT INTO urgent_log (delivery_id, sender, reason, text, at_ms) VALUES (1, 'a', 'b', 'c', 1)")
    for f in (path, path + "-wal", path + "-shm"):
        os.chmod(f, 0o644)
    with Queue(path):
        assert [mode(f) for f in (path, path + "-wal", path + "-shm")] == [0o600] * 3
    con.close()


def deliverer(service, sink) -> Deliverer:  # noqa: F811
    return Deliverer(service.queue, service.directory, service.policy, service.clock, f"127.0.0.1:{sink.port}")


def send(service, recipients: list[str]) -> list[int]:  # noqa: F811
    return enqueue(service.queue, SENDER, recipients, "s", MARKER, directory=service.directory,
                   now=service.clock.now(), policy=service.policy)


def raw_of(service, delivery_id: int) -> bytes:  # noqa: F811
    return service.queue.read("SELECT s.raw FROM submissions s JOIN deliveries d USING (batch) WHERE d.id=?",
                              (delivery_id,))[0][0]


def file_bytes(path: str) -> bytes:
    return b"".join(open(p, "rb").read() for p in (path, path + "-wal") if os.path.exists(p))


def test_a_body_is_deleted_once_every_copy_is_delivered(service, sink):  # noqa: F811
    # 10:00Z: user01 (Paris) is in hours, user02 (New York) is not: the body must wait for both.
    ids = send(service, ["user01@example.com", "user02@example.com"])
    worker = deliverer(service, sink)
    assert worker.run_once().delivered == 1
    assert MARKER.encode() in raw_of(service, ids[0])  # user02's copy still needs it
    service.clock.set(utc(2026, 3, 4, 14))
    report = worker.run_once()
    assert report.delivered == 1 and report.purged.bodies == 1
    assert raw_of(service, ids[0]) == b""
    assert service.queue.get(ids[1])["state"] == "delivered"  # the record stays (keep_records_days)
    worker.purger.checkpoint()  # what the worker does at most once a minute after a purge
    assert MARKER.encode() not in file_bytes(service.queue.path)  # secure_delete + WAL truncated


def test_a_recalled_message_body_is_deleted_too(service, sink):  # noqa: F811
    (mid,) = send(service, ["user02@example.com"])
    service.recall(mid, SENDER)
    assert deliverer(service, sink).run_once().purged.bodies == 1
    assert raw_of(service, mid) == b""


def test_dead_letters_are_kept_for_keep_dead_days_then_purged(service, sink):  # noqa: F811
    sink.fail_with = "554 5.7.1 rejected"
    (mid,) = send(service, ["always@example.com"])
    worker = deliverer(service, sink)
    assert worker.run_once().dead == 1
    assert MARKER.encode() in raw_of(service, mid)  # the operator can still read it
    service.clock.advance(14 * 86400 - 1)
    assert worker.run_once().purged.bodies == 0
    service.clock.advance(1)
    assert worker.run_once().purged.bodies == 1


def test_records_and_audit_rows_expire(service, sink):  # noqa: F811
    (mid,) = send(service, ["user02@example.com"])
    service.urgent(mid, SENDER, "on_call", "pager")
    worker = deliverer(service, sink)
    assert worker.run_once().delivered == 1
    service.clock.advance(30 * 86400)
    report = worker.run_once()
    assert report.purged.records == 1 and service.queue.get(mid) is None
    assert service.queue.read("SELECT count(*) FROM urgent_log")[0][0] == 1  # audit kept a year
    service.clock.advance(335 * 86400)
    assert worker.run_once().purged.audit == 1


def test_keep_delivered_days_keeps_a_delivered_body_for_that_long(tmp_path):
    with Queue(tmp_path / "q.sqlite") as q:
        (mid,), _ = q.add(SENDER, MARKER.encode(), [NewDelivery("a@example.com", "UTC", "hold", 0, 0)], 0).result()
        (c,) = q.claim(1000, 10, 60_000)
        q.mark_delivered(c, 1000)
        keep = Retention(delivered_days=2)
        assert purge(q, 1000 + 2 * DAY_MS - 1, keep).bodies == 0
        assert purge(q, 1000 + 2 * DAY_MS, keep).bodies == 1
        assert q.get(mid)["state"] == "delivered"


OLD_SCHEMA = """
CREATE TABLE submissions (batch TEXT PRIMARY KEY, sender TEXT NOT NULL, idempotency_key TEXT, raw BLOB NOT NULL,
    accepted_ms INTEGER NOT NULL, via TEXT NOT NULL);
CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, sender TEXT NOT NULL,
    recipient TEXT NOT NULL, tz TEXT NOT NULL, mode TEXT NOT NULL, state TEXT NOT NULL, due_ms INTEGER NOT NULL,
    window_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, claim_token TEXT, lease_ms INTEGER,
    delivered_ms INTEGER, last_error TEXT, urgent_reason TEXT, urgent_text TEXT);
CREATE TABLE urgent_log (id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL, sender TEXT NOT NULL,
    reason TEXT NOT NULL, text TEXT NOT NULL, at_ms INTEGER NOT NULL);
INSERT INTO submissions VALUES ('b1', 'Bob@Example.com', NULL, X'41', 1, 'smtp'), ('b2', 'bob@example.com', NULL, X'42', 1, 'http');
INSERT INTO deliveries (batch, sender, recipient, tz, mode, state, due_ms, window_ms, delivered_ms)
    VALUES ('b1', 'Bob@Example.com', 'a@example.com', 'UTC', 'hold', 'delivered', 1, 1, 5),
           ('b2', 'bob@example.com', 'a@example.com', 'UTC', 'hold', 'held', 9, 9, NULL);
INSERT INTO urgent_log (delivery_id, sender, reason, text, at_ms) VALUES (1, 'Bob@Example.com', 'on_call', 'x', 1);
"""


def test_a_queue_from_the_previous_version_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    con.close()
    with Queue(path) as q:
        assert q.get(1)["identity"] == "bob@example.com"
        assert q.urgent_used("bob@example.com", 2) == 1  # old releases still count, case-folded
        # b1 was finished before the upgrade: it counts as finished at the upgrade, and its body goes.
        assert purge(q, int(time.time() * 1000) + 1, Retention()).bodies == 1
        assert q.read("SELECT batch FROM submissions WHERE raw != x''") == [("b2",)]


def test_a_cancelled_submission_does_not_kill_the_writer(tmp_path):
    with Queue(tmp_path / "q.sqlite") as q:
        gate = threading.Event()
        blocker = q.submit(lambda con: gate.wait(10))
        ran = []
        doomed = q.submit(lambda con: ran.append(1))
        assert doomed.cancel()  # the caller gave up (an SMTP client hung up during DATA)
        gate.set()
        blocker.result(10)
        assert q.write(lambda con: "alive") == "alive"
        assert ran == []


def test_the_defaults_keep_no_delivered_body_and_dead_letters_two_weeks():
    from worklife.config import Config
    from worklife.guard.intake import GuardPolicy

    policy = GuardPolicy.from_config(Config())
    assert (policy.keep_delivered_days, policy.keep_dead_days, policy.keep_records_days) == (0.0, 14.0, 30.0)
