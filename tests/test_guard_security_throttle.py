"""Guessing tokens: failed HTTP bearer authentication is throttled like failed SMTP AUTH
(one rule, ``worklife.guard.limits.AuthThrottle``): a lock after ``guard.auth_max_failures``
failures, answered 429 with ``Retry-After`` and without checking the token, per client
address (IPv6 by /64) and per wrong token, in bounded memory, with an audit line that
never holds the token. In process (httpx ASGITransport with a chosen client address)."""

from __future__ import annotations

import hmac
import json
import logging

import httpx
import pytest
from test_guard_support import (  # noqa: F401 (fixtures)
    OPERATOR_TOKEN,
    SENDER,
    SENDER_TOKEN,
    StubMonotonic,
    people_csv,
    smtp_front,
    tokens_file,
    utc,
)

from worklife.config import Config
from worklife.guard import auth as guard_auth
from worklife.guard.api import create_app
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import ManualClock
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.limits import AuthThrottle, client_key
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService

pytestmark = pytest.mark.anyio
GOOD = {"Authorization": "Bearer token-sender-01"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def guard(tmp_path, people_csv, tokens_file):  # noqa: F811
    config = Config({"guard.auth_max_failures": 3, "guard.auth_failure_delay_seconds": 1.0})
    queue = Queue(tmp_path / "queue.sqlite")
    svc = GuardService(queue, Directory.from_sources(config, people=people_csv), GuardPolicy.from_config(config),
                       ManualClock(utc(2026, 3, 4, 10)), Tokens.load(tokens_file),
                       parse_networks(config["guard.smtp_networks"]))
    svc.throttle.clock = StubMonotonic()
    yield svc
    queue.close()


def client(svc: GuardService, host: str = "192.0.2.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(svc), client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://guard.test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_wrong_tokens_lock_the_client_then_even_the_right_token_waits(guard):
    async with client(guard) as c:
        codes = [(await c.get("/messages/1", headers=bearer(f"guess-{i}"))).status_code for i in range(3)]
        locked = await c.get("/messages/1", headers=bearer("guess-3"))
        right = await c.get("/queue", headers=bearer(OPERATOR_TOKEN))
        guard.throttle.clock.t += float(locked.headers["Retry-After"])
        after = await c.get("/queue", headers=bearer(OPERATOR_TOKEN))
    assert codes == [401, 401, 401]
    assert locked.status_code == 429 and locked.json()["status"] == 429
    assert locked.headers["Retry-After"] == "4"  # the 3rd failure costs 1 s x 2**2
    assert "guard.auth_max_failures" in locked.json()["error"]
    # While locked, a token is not even checked: the answer cannot tell right from wrong.
    assert right.status_code == 429
    assert after.status_code == 200


async def test_the_lock_grows_with_each_further_failure_and_caps_at_60_s(guard):
    waits = []
    async with client(guard) as c:
        for i in range(10):
            r = await c.get("/messages/1", headers=bearer(f"guess-{i}"))
            if r.status_code == 429:
                waits.append(int(r.headers["Retry-After"]))
                guard.throttle.clock.t += waits[-1]
                r = await c.get("/messages/1", headers=bearer(f"guess-{i}"))
            assert r.status_code == 401
    assert waits == [4, 8, 16, 32, 60, 60, 60]


async def test_another_client_is_not_locked_by_a_guesser(guard):
    async with client(guard, "192.0.2.10") as attacker, client(guard, "198.51.100.7") as user:
        for i in range(5):
            await attacker.get("/messages/1", headers=bearer(f"guess-{i}"))
        mine = await user.post("/messages", headers=GOOD, json={
            "sender": "sender01@example.com", "recipients": ["user02@example.com"], "subject": "s", "body": "b"})
    assert mine.status_code == 202


async def test_one_wrong_token_from_rotating_addresses_is_locked_by_the_token(guard):
    codes = []
    for i in range(5):
        async with client(guard, f"203.0.113.{i + 1}") as c:
            codes.append((await c.get("/messages/1", headers=bearer("a-revoked-token"))).status_code)
    assert codes == [401, 401, 401, 429, 429]


async def test_addresses_of_one_ipv6_64_share_one_budget(guard):
    codes = []
    for i in range(5):
        async with client(guard, f"2001:db8:1:2::{i + 1:x}") as c:
            codes.append((await c.get("/messages/1", headers=bearer(f"guess-{i}"))).status_code)
    assert codes == [401, 401, 401, 429, 429]
    assert client_key("2001:db8:1:2::99") == client_key(("2001:db8:1:2:ffff::1", 25, 0, 0))
    assert client_key("::ffff:192.0.2.1") == client_key("192.0.2.1") == "ip:192.0.2.1"


async def test_healthz_is_no_oracle_for_the_operator_token(guard):
    async with client(guard) as c:
        guesses = [await c.get("/healthz", headers=bearer(f"operator-guess-{i}")) for i in range(4)]
        anonymous = await c.get("/healthz")
    assert [g.status_code for g in guesses[:3]] == [200, 200, 200]  # liveness stays up for monitors
    assert guesses[3].status_code == 429
    assert anonymous.status_code == 200  # no token is no guess


async def test_a_missing_token_is_not_counted_as_a_guess(guard):
    async with client(guard) as c:
        codes = [(await c.get("/messages/1")).status_code for _ in range(10)]
        ok = await c.get("/queue", headers=bearer(OPERATOR_TOKEN))
    assert codes == [401] * 10 and ok.status_code == 200


async def test_failures_are_audited_without_the_token(guard, caplog):
    with caplog.at_level(logging.WARNING, logger="worklife.guard.audit"):
        async with client(guard) as c:
            for i in range(4):
                await c.get("/messages/1", headers=bearer(f"secret-guess-{i}"))
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "worklife.guard.audit"]
    assert [e["event"] for e in events] == ["auth_failed"] * 3  # refusals while locked are not logged
    assert events[0]["channel"] == "http" and events[0]["client"] == "ip:192.0.2.10"
    assert events[0]["locked_s"] == 0 and events[2]["failures"] == 3 and events[2]["locked_s"] == 4
    assert "secret-guess" not in caplog.text


def test_memory_stays_bounded_when_the_attacker_rotates_addresses():
    clock = StubMonotonic()
    throttle = AuthThrottle(1.0, 3, max_keys=1000, clock=clock)
    for i in range(50_000):
        throttle.fail(f"ip:10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
        clock.t += 0.001
    for _ in range(5000):  # one key failing over and over keeps a bounded history too
        throttle.fail("ip:192.0.2.1")
    assert len(throttle) == 1000
    assert throttle.failures("ip:192.0.2.1") == AuthThrottle.KEEP
    clock.t += AuthThrottle.WINDOW_S
    assert throttle.failures("ip:192.0.2.1") == 0 and throttle.retry_after("ip:192.0.2.1") == 0


async def test_rotating_addresses_through_the_api_keeps_the_table_bounded(guard):
    guard.throttle.max_keys = 50
    for i in range(300):
        async with client(guard, f"10.1.{i >> 8}.{i & 255}") as c:
            assert (await c.get("/messages/1", headers=bearer(f"g{i}"))).status_code == 401
    assert len(guard.throttle) <= 50


def test_an_unknown_smtp_user_costs_the_same_comparison(monkeypatch):
    tokens = Tokens.from_plain({"sender01@example.com": "token-sender-01"})
    calls = []
    real = hmac.compare_digest

    def counting(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(guard_auth.hmac, "compare_digest", counting)
    assert tokens.check_login("nobody@example.com", "x") is False
    assert tokens.check_login("sender01@example.com", "x") is False
    assert tokens.check_login("sender01@example.com", "token-sender-01") is True
    assert calls == [(64, 64)] * 3  # one 64-hex comparison whether the user exists or not


def test_the_http_server_ignores_forwarded_headers():
    """Behind uvicorn's default, a loopback client could name any address in X-Forwarded-For
    and start a fresh throttle budget with each request."""
    from pathlib import Path

    from worklife.guard.server import ServeOptions, http_config

    cfg = http_config(object(), ServeOptions(db=Path("q.sqlite"), config=Config()))
    assert cfg.proxy_headers is False


def test_smtp_auth_from_a_locked_client_is_refused_unchecked(guard):
    """Parallel connections gain nothing: while the client is locked, AUTH is answered 421
    without looking at the credentials, even the right ones."""
    import smtplib

    async def no_wait(seconds: float) -> None:
        return None

    with smtp_front(guard, no_wait):
        clock = guard.throttle.clock
        for _ in range(3):  # three failures on other connections, their waits still running
            guard.throttle.fail(("127.0.0.1", 1))
        s = smtplib.SMTP("127.0.0.1", guard.port, timeout=10)
        with pytest.raises((smtplib.SMTPAuthenticationError, smtplib.SMTPServerDisconnected)) as info:
            s.login(SENDER, SENDER_TOKEN)
        s.close()
        clock.t += 4
        with smtplib.SMTP("127.0.0.1", guard.port, timeout=10) as again:
            assert again.login(SENDER, SENDER_TOKEN)[0] == 235
    if isinstance(info.value, smtplib.SMTPAuthenticationError):
        assert info.value.smtp_code == 421


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_a_body_is_not_read_before_the_token_is_valid(guard, token):
    """Without a valid token the guard reads no body: an outsider cannot make it parse 20 MB of
    JSON per request (the body limit is 2 x guard.max_message_bytes)."""
    sent = 0

    async def body():
        nonlocal sent
        for _ in range(160):  # 10 MB
            sent += 65536
            yield b" " * 65536

    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    async with client(guard) as c:
        r = await c.post("/messages", content=body(), headers=headers)
    assert r.status_code == 401 and r.json()["ok"] is False
    assert sent <= 65536


async def test_a_valid_token_is_checked_once_and_still_works(guard, caplog):
    async with client(guard) as c:
        r = await c.post("/messages", headers=GOOD, json={
            "sender": "sender01@example.com", "recipients": ["user02@example.com"], "subject": "s", "body": "b"})
        bad = await c.get("/messages/1", headers=bearer("wrong"))
    assert r.status_code == 202
    assert bad.status_code == 401 and guard.throttle.failures("ip:192.0.2.10") == 1  # counted once, not twice
