"""Shared fixtures for the guard tests: an upstream SMTP sink, people, tokens, a guard service.

The sink is a real aiosmtpd server on 127.0.0.1 that records every message it gets and,
like an upstream that deduplicates on retries, counts each (Message-ID,
X-Worklife-Delivery) key once in ``unique``.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from worklife.config import Config
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import ManualClock
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService

PEOPLE_CSV = """person_id,email,tz,work_start,work_end,workdays,jurisdiction,quiet_hours
user01@example.com,user01@example.com,Europe/Paris,09:00,17:00,Mon-Fri,FR,12:00-13:00
user02@example.com,user02@example.com,America/New_York,09:00,17:00,Mon-Fri,US,
user03@example.com,user03@example.com,Asia/Kolkata,09:00,17:00,Mon-Fri,,
user04@example.com,user04@example.com,America/Argentina/Buenos_Aires,09:00,17:00,Mon-Fri,AR,
always@example.com,always@example.com,UTC,00:00,24:00,Mon-Sun,,
"""

TOKENS_TOML = """operator = "operator-token-for-tests"
[senders]
"sender01@example.com" = "token-sender-01"
"sender02@example.com" = "token-sender-02"
"""

SENDER, SENDER_TOKEN = "sender01@example.com", "token-sender-01"
OPERATOR_TOKEN = "operator-token-for-tests"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkHandler:
    def __init__(self, fail_with: str | None = None):
        self.received: list[tuple[str, list[str], email.message.Message]] = []
        self.fail_with = fail_with  # e.g. "451 4.3.0 try later" to simulate an upstream failure
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.fail_with:
            return self.fail_with
        msg = email.message_from_bytes(envelope.content)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def keys(self) -> Counter:
        with self.lock:
            return Counter((m["Message-ID"], m["X-Worklife-Delivery"]) for _, _, m in self.received)

    def unique(self) -> set:
        return set(self.keys())


@pytest.fixture
def sink():
    handler = SinkHandler()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    handler.port = port
    yield handler
    ctl.stop()


@pytest.fixture
def people_csv(tmp_path: Path) -> Path:
    p = tmp_path / "people.csv"
    p.write_text(PEOPLE_CSV)
    return p


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    p = tmp_path / "tokens.toml"
    p.write_text(TOKENS_TOML)
    return p


@pytest.fixture
def service(tmp_path: Path, people_csv: Path, tokens_file: Path):
    config = Config({"guard.urgent_per_sender_per_day": 2, "guard.max_message_bytes": 20_000,
                     "guard.retry_base_seconds": 60.0, "guard.retry_max_attempts": 3})
    clock = ManualClock(utc(2026, 3, 4, 10))  # Wednesday: 11:00 in Paris, 05:00 in New York
    queue = Queue(tmp_path / "queue.sqlite")
    svc = GuardService(queue, Directory.from_sources(config, people=people_csv), GuardPolicy.from_config(config),
                       clock, Tokens.load(tokens_file), parse_networks(config["guard.smtp_networks"]))
    yield svc
    queue.close()


class LoopThread:
    """An asyncio loop in a thread, to run the guard's SMTP front next to sync test code."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class StubMonotonic:
    """A stand-in for the throttle's monotonic clock, moved by hand (``t`` seconds)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@contextmanager
def smtp_front(svc, sleep):
    """``svc``'s SMTP front on 127.0.0.1 (port in ``svc.port``), AUTH delays going to ``sleep``.

    The throttle's clock is a ``StubMonotonic`` that each delay moves on, as if the server had
    really waited: a client that takes its answers one at a time never meets the lock."""
    from worklife.guard.smtp import start_smtp

    if not isinstance(svc.throttle.clock, StubMonotonic):
        svc.throttle.clock = StubMonotonic()
    clock = svc.throttle.clock

    async def waited(seconds: float) -> None:
        clock.t += seconds
        await sleep(seconds)

    svc.throttle.sleep = waited
    lt = LoopThread()
    server = lt.run(start_smtp(svc, "127.0.0.1", 0, allow_plain_auth=True))
    svc.port = server.sockets[0].getsockname()[1]
    try:
        yield svc
    finally:
        async def close() -> None:
            server.close()

        lt.run(close())
        lt.stop()
