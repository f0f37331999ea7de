"""End to end: the digest handed to the guard arrives inside each recipient's working hours.

The guard runs in-process (its FastAPI app through starlette's TestClient, a controllable
clock) and delivers to a real SMTP sink on 127.0.0.1.
"""

from __future__ import annotations

import email
import socket
import threading
import warnings
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip("worklife.guard", reason="the delivery guard (issue 7) is not in this tree")

from aiosmtpd.controller import Controller

with warnings.catch_warnings():  # starlette suggests httpx2 for its test client; httpx is what we pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from worklife.config import Config
from worklife.digest import build_digest, send_http, send_queue
from worklife.guard.api import create_app
from worklife.guard.auth import Tokens
from worklife.guard.clock import ManualClock
from worklife.guard.delivery import Deliverer
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService
from worklife.store import connect
from worklife.workcal import is_public_holiday

SENDER, TOKEN = "digest@example.com", "token-for-the-digest"
# Monday 23 Nov 2026 06:00Z: 07:00 in Paris (before hours), 01:00 in New York, 14:00 in Shanghai
# (inside), 15:00 in Tokyo on Labor Thanksgiving Day (a public holiday in Japan).
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
TEAM = [("user01@example.com", "Europe/Paris", "FR"), ("user02@example.com", "America/New_York", "US"),
        ("user03@example.com", "Asia/Tokyo", "JP"), ("user04@example.com", "Asia/Shanghai", "CN")]
EXPECTED_UTC = {"user01@example.com": datetime(2026, 11, 23, 8, 0, tzinfo=UTC),    # 09:00 in Paris
                "user02@example.com": datetime(2026, 11, 23, 14, 0, tzinfo=UTC),   # 09:00 in New York
                "user03@example.com": datetime(2026, 11, 24, 0, 0, tzinfo=UTC),    # Tuesday 09:00 in Tokyo
                "user04@example.com": datetime(2026, 11, 23, 6, 0, tzinfo=UTC)}    # at once


class Sink:
    """An upstream SMTP server that records (recipient, guard clock at receipt, message)."""

    def __init__(self, clock: ManualClock):
        self.clock = clock
        self.received: list[tuple[str, datetime, email.message.Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content)
        with self.lock:
            self.received.extend((r, self.clock.now(), msg) for r in envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as s:
        s.upsert("people", [{"person_id": p, "email": p, "display_name": f"Test Person 0{i + 1}", "tz": tz,
                             "team": "alpha", "jurisdiction": j, "work_start": "09:00", "work_end": "17:00",
                             "workdays": "Mon-Fri"} for i, (p, tz, j) in enumerate(TEAM)])
        s.upsert("outcomes", [{"outcome_key": "pr_merged:o/r#1:u1", "person_id": TEAM[0][0], "kind": "pr_merged",
                               "at_utc": datetime(2026, 11, 18, 14, 0), "ref": "o/r#1", "title": "Retry uploads",
                               "state": "merged", "url": "https://github.com/o/r/pull/1"}])
    return path


@pytest.fixture
def guard(tmp_path, db):
    config = Config()
    clock = ManualClock(NOW)
    queue = Queue(tmp_path / "queue.sqlite")
    service = GuardService(queue, Directory.from_sources(config, store=db), GuardPolicy.from_config(config), clock,
                           Tokens.from_plain({SENDER: TOKEN}))
    sink = Sink(clock)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    worker = Deliverer(queue, service.directory, service.policy, clock, f"127.0.0.1:{port}")
    yield service, worker, sink
    ctl.stop()
    queue.close()


def in_working_hours(at: datetime, tz: str, jurisdiction: str) -> bool:
    local = at.astimezone(ZoneInfo(tz))
    return local.weekday() < 5 and 9 <= local.hour < 17 and not is_public_holiday(jurisdiction, local.date())


def test_digest_arrives_in_each_recipients_next_working_window(db, guard):
    service, worker, sink = guard
    with connect(db, read_only=True) as s:
        d = build_digest(s, Config(), "alpha", "2026-W47", NOW, numbers="quick")
    with TestClient(create_app(service), base_url="http://guard.test") as client:
        answer = send_http(d, "http://guard.test", TOKEN, SENDER, client=client)
        planned = {x["recipient"]: x["planned_utc"] for x in answer["deliveries"]}
        assert planned == {r: t.strftime("%Y-%m-%dT%H:%M:%SZ") for r, t in EXPECTED_UTC.items()}
        again = send_http(d, "http://guard.test", TOKEN, SENDER, client=client)
        assert again["replayed"] is True and again["ids"] == answer["ids"]  # never twice

    for step in (NOW, datetime(2026, 11, 23, 7, 59, tzinfo=UTC), EXPECTED_UTC["user01@example.com"],
                 datetime(2026, 11, 23, 13, 59, tzinfo=UTC), EXPECTED_UTC["user02@example.com"],
                 datetime(2026, 11, 23, 23, 59, tzinfo=UTC), EXPECTED_UTC["user03@example.com"]):
        service.clock.set(step)
        worker.run_once()

    got = {r: at for r, at, _ in sink.received}
    assert got == EXPECTED_UTC  # each once, at the start of their window (Shanghai: at once)
    where = {p: (z, j) for p, z, j in TEAM}
    assert all(in_working_hours(at, *where[r]) for r, at in got.items())
    msg = sink.received[0][2]
    assert " ".join(msg["Subject"].split()).startswith("[worklife] alpha digest 2026-W47: 1 shipped")
    assert "https://github.com/o/r/pull/1" in msg.get_payload(decode=True).decode()


def test_guard_queue_file_plans_the_same_windows(db, tmp_path):
    with connect(db, read_only=True) as s:
        d = build_digest(s, Config(), "alpha", "2026-W47", NOW, numbers="quick")
    qpath = tmp_path / "direct.sqlite"
    import worklife.guard as guard_lib

    ids = send_queue(d, qpath, SENDER, Config(), store_path=db, now=NOW, guard=guard_lib)
    queue = Queue(qpath)
    try:
        due = {queue.get(i)["recipient"]: queue.get(i)["due_ms"] for i in ids}
    finally:
        queue.close()
    assert due == {r: int(t.timestamp() * 1000) for r, t in EXPECTED_UTC.items()}


def test_each_person_gets_their_own_digest_in_their_own_window(db, tmp_path):
    from typer.testing import CliRunner

    from worklife.cli import app

    qpath = tmp_path / "each.sqlite"
    r = CliRunner().invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", "2026-W47", "--numbers", "quick",
                                 "--now", NOW.isoformat(), "--guard-queue", str(qpath), "--each-person"])
    assert r.exit_code == 0, r.output
    queue = Queue(qpath)
    try:
        rows = [queue.get(i) for i in range(1, 10) if queue.get(i)]
        raws = {row["recipient"]: queue.read("SELECT raw FROM submissions WHERE batch = ?", (row["batch"],))[0][0]
                for row in rows}
    finally:
        queue.close()
    assert {row["recipient"]: row["due_ms"] for row in rows} == {
        rcpt: int(t.timestamp() * 1000) for rcpt, t in EXPECTED_UTC.items()}
    assert len({row["batch"] for row in rows}) == len(rows)  # one submission per person
    for rcpt, raw in raws.items():  # each message names only its recipient, with their own figures
        msg = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode())
        body = msg.get_payload(decode=True).decode() if not msg.is_multipart() else msg.get_payload(0).get_payload(decode=True).decode()
        assert msg["To"] == rcpt and "Your meetings this week" in body
        assert all(other not in str(msg) for other in EXPECTED_UTC if other != rcpt)
