"""The guard's HTTP API as an attacker with a valid sender token would use it (in process,
httpx ASGITransport): header injection, spoofed From:, Bcc, relaying, the urgent allowance,
the audit trail, over-deep MIME, /healthz and the body limit."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from test_guard_support import (  # noqa: F401 (fixtures)
    OPERATOR_TOKEN,
    PEOPLE_CSV,
    people_csv,
    sink,
    utc,
)

from worklife.config import Config
from worklife.guard.api import create_app
from worklife.guard.auth import Tokens
from worklife.guard.clock import ManualClock
from worklife.guard.delivery import Deliverer
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService

pytestmark = pytest.mark.anyio
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BOB = {"Authorization": "Bearer token-bob"}
INJECTION = "x@example.com>\r\nRCPT TO:<evil@evil.test"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def open_guard(tmp_path, people_csv):  # noqa: F811
    """A guard started like `guard serve --default-tz UTC`: unlisted recipients in relayed domains only.
    bob@example.com may also write as robert@example.com (tokens-file alias)."""
    (tmp_path / "tokens.toml").write_text(
        'operator = "operator-token-for-tests"\n[senders]\n'
        '"bob@example.com" = { token = "token-bob", aliases = ["robert@example.com"] }\n'
        '"sender01@example.com" = "token-sender-01"\n')
    config = Config({"guard.max_recipients": 5, "guard.urgent_per_sender_per_day": 3,
                     "guard.max_message_bytes": 500_000})
    directory = Directory.from_sources(config, people=people_csv, fallback_tz="UTC")
    directory.relay_domains = ["example.com"]
    queue = Queue(tmp_path / "open.sqlite")
    svc = GuardService(queue, directory, GuardPolicy.from_config(config), ManualClock(utc(2026, 3, 4, 3)),
                       Tokens.load(tmp_path / "tokens.toml"))
    yield svc
    queue.close()


def client_for(svc: GuardService) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)), base_url="http://guard.test")


def message(**over):
    body = {"sender": "bob@example.com", "recipients": ["carol@example.com"], "subject": "Numbers",
            "body": "See attached."}
    body.update(over)
    return body


def raw_mail(frm: str, extra: str = "") -> str:
    return (f"From: {frm}\r\nTo: carol@example.com\r\nSubject: hello\r\n{extra}"
            f"Message-ID: <m1@example.com>\r\n\r\nhello\r\n")


async def test_a_recipient_with_crlf_is_refused_and_nothing_is_stored(open_guard):
    async with client_for(open_guard) as c:
        r = await c.post("/messages", json=message(recipients=[INJECTION]), headers=BOB)
    assert r.status_code == 422 and "control character" in r.json()["error"]
    assert open_guard.queue.counts()["held"] == 0


@pytest.mark.parametrize("field", ["sender", "recipient"])
@pytest.mark.parametrize("bad", ["bob@example.com\r\nBcc: evil@evil.test", "a" * 65 + "@example.com",
                                 "bob@example.com\x00", "bob@example.com, evil@evil.test"])
async def test_invalid_addresses_get_422(open_guard, field, bad):
    over = {"sender": bad} if field == "sender" else {"recipients": [bad]}
    async with client_for(open_guard) as c:
        r = await c.post("/messages", json=message(**over), headers=BOB)
    assert r.status_code == 422 and field in r.json()["error"]


async def test_a_subject_with_line_breaks_stays_one_header(open_guard, sink):  # noqa: F811
    async with client_for(open_guard) as c:
        r = await c.post("/messages", json=message(subject="hi\r\nBcc: evil@evil.test\r\nX-Evil: 1",
                                                   recipients=["always@example.com"]), headers=BOB)
    assert r.status_code == 202
    Deliverer(open_guard.queue, open_guard.directory, open_guard.policy, open_guard.clock,
              f"127.0.0.1:{sink.port}").run_once()
    (_, rcpts, m), = sink.received
    assert rcpts == ["always@example.com"]
    assert m["Bcc"] is None and m["X-Evil"] is None
    assert " ".join(m["Subject"].split()) == "hi Bcc: evil@evil.test X-Evil: 1"


async def test_spoofed_from_is_403_but_an_alias_is_allowed(open_guard):
    async with client_for(open_guard) as c:
        spoof = await c.post("/messages", json=message(body=None, raw=raw_mail('"CEO" <ceo@example.com>')),
                             headers=BOB)
        hidden = await c.post("/messages", json=message(
            body=None, raw=raw_mail("bob@example.com", "Sender: ceo@example.com\r\n")), headers=BOB)
        alias = await c.post("/messages", json=message(
            sender="robert@example.com", body=None, raw=raw_mail("Robert <Robert@Example.com>")), headers=BOB)
        other = await c.post("/messages", json=message(sender="sender01@example.com"), headers=BOB)
    assert spoof.status_code == 403 and "ceo@example.com" in spoof.json()["error"]
    assert hidden.status_code == 403
    assert alias.status_code == 202
    assert other.status_code == 403 and "may only send as bob@example.com" in other.json()["error"]
    (row,) = open_guard.queue.deliveries()
    assert (row["sender"], row["identity"]) == ("robert@example.com", "bob@example.com")


async def test_a_directory_alias_is_the_same_author(tmp_path):
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE_CSV)
    config = Config()
    directory = Directory.from_sources(config, people=people)
    directory.replace({**directory._schedules, "u1.alias@example.com": directory.lookup("user01@example.com")})
    queue = Queue(tmp_path / "q.sqlite")
    svc = GuardService(queue, directory, GuardPolicy.from_config(config), ManualClock(utc(2026, 3, 4, 10)),
                       Tokens.from_plain({"user01@example.com": "t1"}))
    try:
        async with client_for(svc) as c:
            r = await c.post("/messages", headers={"Authorization": "Bearer t1"}, json={
                "sender": "user01@example.com", "recipients": ["user02@example.com"],
                "raw": "From: U1 <u1.alias@example.com>\r\nSubject: s\r\n\r\nx\r\n"})
        assert r.status_code == 202
    finally:
        queue.close()


async def test_bcc_is_stripped_before_storing_and_relaying(open_guard, sink):  # noqa: F811
    raw = raw_mail("bob@example.com", "Bcc: secret@example.com\r\nResent-Bcc: other@example.com\r\n")
    async with client_for(open_guard) as c:
        r = await c.post("/messages", json=message(body=None, raw=raw, recipients=["always@example.com"]),
                         headers=BOB)
    assert r.status_code == 202
    stored = open_guard.queue.read("SELECT raw FROM submissions")[0][0]
    assert b"secret@example.com" not in stored and b"other@example.com" not in stored
    Deliverer(open_guard.queue, open_guard.directory, open_guard.policy, open_guard.clock,
              f"127.0.0.1:{sink.port}").run_once()
    (_, _, m), = sink.received
    assert m["Bcc"] is None and m["Resent-Bcc"] is None and m["Subject"] == "hello"


async def test_relaying_is_limited_to_the_configured_domains_and_the_recipient_cap(open_guard):
    async with client_for(open_guard) as c:
        outside = await c.post("/messages", json=message(recipients=["victim@elsewhere.test"]), headers=BOB)
        many = await c.post("/messages", json=message(
            recipients=[f"r{i}@example.com" for i in range(6)]), headers=BOB)
        dupes = await c.post("/messages", json=message(recipients=["r1@example.com", "R1@example.com"] * 10),
                             headers=BOB)
    assert outside.status_code == 403 and "guard.relay_domains" in outside.json()["error"]
    assert many.status_code == 422 and "guard.max_recipients=5" in many.json()["error"]
    assert dupes.status_code == 202 and len(dupes.json()["ids"]) == 1  # duplicates count once
    assert open_guard.queue.counts()["held"] == 1


async def test_urgent_allowance_is_per_identity_whatever_the_case_or_alias(open_guard):
    async with client_for(open_guard) as c:
        ids = []
        for sender in ["BOB@example.com", "Bob@Example.com", "bOb@example.com", "robert@example.com",
                       "bob@example.com"]:
            r = await c.post("/messages", json=message(sender=sender), headers=BOB)
            assert r.status_code == 202, r.text
            ids.append(r.json()["ids"][0])
        codes = [(await c.post(f"/messages/{i}/urgent", json={"reason": "on_call", "text": "pager"},
                               headers=BOB)).status_code for i in ids]
        by_operator = await c.post(f"/messages/{ids[4]}/urgent", json={"reason": "emergency", "text": "ops"},
                                   headers=OPERATOR)
    assert codes == [200, 200, 200, 429, 429]  # 3 per day for bob, however the address was typed
    assert by_operator.status_code == 200  # the operator is not limited, but audited
    rows = open_guard.queue.read("SELECT identity, actor FROM urgent_log ORDER BY id")
    assert rows == [("bob@example.com", "bob@example.com")] * 3 + [("bob@example.com", "operator")]


async def test_urgent_text_cannot_forge_an_audit_line(open_guard, caplog):
    forged = "real reason\n2026-03-04 03:00:00 WARNING worklife.guard.audit: release 1 by alice@example.com"
    async with client_for(open_guard) as c:
        mid = (await c.post("/messages", json=message(), headers=BOB)).json()["ids"][0]
        with caplog.at_level(logging.WARNING, logger="worklife.guard.audit"):
            r = await c.post(f"/messages/{mid}/urgent", json={"reason": "emergency", "text": forged}, headers=BOB)
    assert r.status_code == 200
    records = [rec for rec in caplog.records if rec.name == "worklife.guard.audit"]
    assert len(records) == 1
    line = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s").format(records[0])
    assert "\n" not in line and "\r" not in line  # one line in the log file, whatever the text
    event = json.loads(records[0].getMessage())
    assert event["event"] == "urgent_release" and event["identity"] == "bob@example.com"
    assert event["text"] == forged  # kept exactly, as data
    stored = open_guard.queue.read("SELECT text FROM urgent_log")[0][0]
    assert stored == forged


async def test_over_deep_mime_is_422_not_500(open_guard):
    from test_guard_addresses import nested

    raw = nested(3000).replace(b"sender01@example.com", b"bob@example.com").decode()
    async with client_for(open_guard) as c:
        r = await c.post("/messages", json=message(body=None, raw=raw), headers=BOB)
    assert r.status_code == 422 and "max_mime_depth" in r.json()["error"]


async def test_healthz_says_only_ok_without_the_operator_token(open_guard):
    async with client_for(open_guard) as c:
        await c.post("/messages", json=message(), headers=BOB)
        anonymous = await c.get("/healthz")
        sender = await c.get("/healthz", headers=BOB)
        operator = await c.get("/healthz", headers=OPERATOR)
    assert anonymous.json() == {"ok": True} and sender.json() == {"ok": True}
    assert operator.json()["counts"]["held"] == 1


async def test_a_declared_oversized_body_is_refused_before_reading(open_guard):
    limit = open_guard.policy.max_request_bytes
    sent = 0

    async def body():
        nonlocal sent
        for _ in range(10):
            sent += 65536
            yield b"x" * 65536

    async with client_for(open_guard) as c:
        r = await c.post("/messages", content=body(), headers={**BOB, "Content-Length": str(200 * 2**20),
                                                                 "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["status"] == 413 and str(limit) in r.json()["error"]
    assert sent <= 65536  # at most the chunk the transport had already pulled


async def test_a_streamed_200_mb_body_is_cut_off_at_the_limit(open_guard):
    limit = open_guard.policy.max_request_bytes
    chunk = b" " * 65536
    sent = 0

    async def body():  # 200 MB of JSON whitespace, without a Content-Length (chunked)
        nonlocal sent
        for _ in range(200 * 16):
            sent += len(chunk)
            yield chunk

    async with client_for(open_guard) as c:
        r = await c.post("/messages", content=body(), headers={**BOB, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["ok"] is False
    assert sent <= limit + 2 * len(chunk)  # reading stopped at the limit, not after 200 MB


async def test_a_body_under_the_limit_still_works(open_guard):
    async with client_for(open_guard) as c:
        r = await c.post("/messages", content=json.dumps(message()).encode(), headers={
            **BOB, "Content-Type": "application/json"})
    assert r.status_code == 202


async def test_an_idempotency_key_belongs_to_the_identity_not_the_spelling(open_guard):
    async with client_for(open_guard) as c:
        first = await c.post("/messages", json=message(idempotency_key="k1"), headers=BOB)
        again = await c.post("/messages", json=message(sender="BOB@Example.com", idempotency_key="k1"), headers=BOB)
        alias = await c.post("/messages", json=message(sender="robert@example.com", idempotency_key="k1"),
                             headers=BOB)
    assert first.status_code == 202 and again.status_code == alias.status_code == 200
    assert again.json()["ids"] == alias.json()["ids"] == first.json()["ids"]
