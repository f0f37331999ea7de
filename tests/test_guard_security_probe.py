"""Probes of the guard as a token holder acting against others or the upstream (in process):
SMTP smuggling through bare CR/LF, display names that look like another address, Unicode
line separators in JSON fields, ids out of range, other senders' messages, deep JSON."""

from __future__ import annotations

import re

import httpx
import pytest
from test_guard_support import (  # noqa: F401 (fixtures)
    OPERATOR_TOKEN,
    people_csv,
    sink,
    tokens_file,
    utc,
)

from worklife.config import Config
from worklife.guard.api import create_app
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import ManualClock
from worklife.guard.delivery import Deliverer
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService

pytestmark = pytest.mark.anyio
S1 = {"Authorization": "Bearer token-sender-01"}
S2 = {"Authorization": "Bearer token-sender-02"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")  # a CR or LF that is not part of a CRLF


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def guard(tmp_path, people_csv, tokens_file):  # noqa: F811
    config = Config()
    queue = Queue(tmp_path / "queue.sqlite")
    svc = GuardService(queue, Directory.from_sources(config, people=people_csv), GuardPolicy.from_config(config),
                       ManualClock(utc(2026, 3, 4, 10)), Tokens.load(tokens_file),
                       parse_networks(config["guard.smtp_networks"]))
    yield svc
    queue.close()


def client(svc: GuardService) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)), base_url="http://guard.test")


def msg(**over):
    body = {"sender": "sender01@example.com", "recipients": ["always@example.com"], "subject": "s", "body": "b"}
    body.update(over)
    return body


SMUGGLE = ("hello\r.\r\nMAIL FROM:<ceo@example.com>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n"
           "From: ceo@example.com\r\n\r\nwire the money\r\n\r.\r\n")


@pytest.mark.parametrize("how", ["body", "raw", "raw-lf-dot"])
async def test_bare_cr_or_lf_cannot_end_the_data_at_the_upstream(guard, sink, how):  # noqa: F811
    """SMTP smuggling: an upstream that takes a bare CR (or LF) as a line end would read
    `<CR>.<CRLF>` as the end of DATA and the rest as new commands, with a From: nobody
    checked. Every line of what the guard stores and relays ends in CRLF."""
    if how == "body":
        over = {"body": SMUGGLE}
    elif how == "raw":
        over = {"body": None, "raw": "From: sender01@example.com\r\nSubject: s\r\n\r\n" + SMUGGLE}
    else:
        over = {"body": None, "raw": "From: sender01@example.com\nSubject: s\n\nhi\n.\rMAIL FROM:<x@example.com>\n"}
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(**over), headers=S1)
    assert r.status_code == 202, r.text
    stored = guard.queue.read("SELECT raw FROM submissions")[0][0]
    assert BARE.search(stored) is None, stored
    Deliverer(guard.queue, guard.directory, guard.policy, guard.clock, f"127.0.0.1:{sink.port}").run_once()
    assert len(sink.received) == 1  # one message, nothing smuggled after it
    assert sink.received[0][1] == ["always@example.com"]


@pytest.mark.parametrize("frm", ['"ceo@example.com" <sender01@example.com>',
                                 "=?utf-8?q?ceo=40example=2Ecom?= <sender01@example.com>",
                                 '"CEO (ceo@example.com)" <sender01@example.com>',
                                 "sender01@example.com (ceo@example.com)",
                                 "=?utf-8?b?Y2VvQGV4YW1wbGUuY29t?= <sender01@example.com>",
                                 "=?utf-8?q?ceo=EF=BC=A0example=2Ecom?= <sender01@example.com>"])
async def test_a_display_name_holding_another_address_is_refused(guard, frm):
    raw = f"From: {frm}\r\nSubject: s\r\n\r\nhello\r\n"
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(body=None, raw=raw), headers=S1)
    assert r.status_code == 403 and "ceo" in r.json()["error"]


@pytest.mark.parametrize("frm", ['"Sender One" <sender01@example.com>', "=?utf-8?q?S=C3=A9nder?= <sender01@example.com>",
                                 '"sender01@example.com" <sender01@example.com>'])
async def test_an_ordinary_display_name_still_passes(guard, frm):
    raw = f"From: {frm}\r\nSubject: s\r\n\r\nhello\r\n"
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(body=None, raw=raw), headers=S1)
    assert r.status_code == 202, r.text


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0b", "\x1c"])
async def test_unicode_line_separators_in_the_subject_stay_in_one_header(guard, sink, sep):  # noqa: F811
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(subject=f"hi{sep}Bcc: evil@example.com"), headers=S1)
    assert r.status_code == 202
    stored = guard.queue.read("SELECT raw FROM submissions")[0][0]
    head = stored.split(b"\r\n\r\n")[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))
    Deliverer(guard.queue, guard.directory, guard.policy, guard.clock, f"127.0.0.1:{sink.port}").run_once()
    (_, _, m), = sink.received
    assert m["Bcc"] is None and "Bcc: evil@example.com" in " ".join(m["Subject"].split())


@pytest.mark.parametrize("bad", ["always@example.com\u2028", "always\x85@example.com", "always@exa\u2029mple.com"])
async def test_unicode_line_separators_in_a_recipient_are_422(guard, bad):
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(recipients=[bad]), headers=S1)
    assert r.status_code == 422


@pytest.mark.parametrize("path", ["/messages/99999999999999999999999", "/messages/-1", "/messages/0",
                                  "/messages/..%2f..%2fqueue.sqlite", "/messages/1%00"])
async def test_odd_ids_are_404_or_422_never_500(guard, path):
    async with client(guard) as c:
        got = [await c.get(path, headers=OPERATOR), await c.delete(path, headers=OPERATOR),
               await c.post(path + "/urgent", json={"reason": "emergency", "text": "x"}, headers=OPERATOR)]
    assert {r.status_code for r in got} <= {404, 422}, [(r.status_code, r.text) for r in got]


async def test_another_senders_message_cannot_be_read_recalled_or_released(guard):
    async with client(guard) as c:
        mine = (await c.post("/messages", json=msg(recipients=["user02@example.com"]), headers=S1)).json()["ids"][0]
        tries = [await c.get(f"/messages/{mine}", headers=S2), await c.delete(f"/messages/{mine}", headers=S2),
                 await c.post(f"/messages/{mine}/urgent", json={"reason": "emergency", "text": "x"}, headers=S2),
                 await c.get(f"/messages/{mine + 1}", headers=S2)]
        still = await c.get(f"/messages/{mine}", headers=S1)
    assert [t.status_code for t in tries] == [404] * 4
    assert tries[0].json() == tries[3].json() | {"error": f"no message {mine}"}  # same answer as a missing id
    assert still.json()["state"] == "held"
    assert guard.queue.read("SELECT count(*) FROM urgent_log")[0][0] == 0


async def test_deeply_nested_json_is_a_client_error(guard):
    deep = '{"sender": ' + "[" * 100_000 + "]" * 100_000 + "}"
    async with client(guard) as c:
        r = await c.post("/messages", content=deep, headers={**S1, "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["ok"] is False


async def test_duplicate_recipients_cost_one_delivery(guard):
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(recipients=["user02@example.com", "USER02@example.com",
                                                           "<user02@example.com>"] * 300), headers=S1)
    assert r.status_code == 202 and len(r.json()["ids"]) == 1


async def test_another_senders_idempotency_key_gives_nothing_of_theirs(guard):
    async with client(guard) as c:
        first = await c.post("/messages", json=msg(idempotency_key="weekly-1"), headers=S1)
        other = await c.post("/messages", json=msg(sender="sender02@example.com", idempotency_key="weekly-1"),
                             headers=S2)
    assert first.status_code == other.status_code == 202  # a new message, not a replay of sender01's
    assert set(first.json()["ids"]).isdisjoint(other.json()["ids"])
    assert "sender01" not in other.text


@pytest.mark.parametrize("variant", ["sender01+urgent@example.com", "sender.01@example.com", "sender01@EXAMPLE.com."])
async def test_plus_or_dot_variants_are_not_another_sender(guard, variant):
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(sender=variant), headers=S1)
    assert r.status_code in (403, 422)


def test_bare_cr_through_the_smtp_front_is_stored_as_crlf(guard):
    import smtplib

    from test_guard_support import SENDER, SENDER_TOKEN, smtp_front

    async def no_wait(seconds: float) -> None:
        return None

    data = (b"From: sender01@example.com\r\nSubject: s\r\n\r\nhello\r.\r\nMAIL FROM:<ceo@example.com>\r\n"
            b"RCPT TO:<always@example.com>\r\n")
    with smtp_front(guard, no_wait), smtplib.SMTP("127.0.0.1", guard.port, timeout=10) as s:
        s.login(SENDER, SENDER_TOKEN)
        s.sendmail(SENDER, ["always@example.com"], data)
    stored = guard.queue.read("SELECT raw FROM submissions")[0][0]
    assert BARE.search(stored) is None and b"hello\r\n.\r\nMAIL FROM" in stored  # relayed dot-stuffed


async def test_thousands_of_spellings_of_one_recipient_are_refused_not_validated_one_by_one(guard):
    import itertools

    address = "always@example.com"
    spellings = ["".join(p) for p in itertools.product(*[(ch, ch.upper()) if ch.isalpha() else (ch,)
                                                           for ch in address])]  # 8,192
    async with client(guard) as c:
        r = await c.post("/messages", json=msg(recipients=spellings), headers=S1)
        few = await c.post("/messages", json=msg(recipients=spellings[:1000] * 5), headers=S1)
    assert r.status_code == 422 and "1000 different addresses listed" in r.json()["error"]
    assert few.status_code == 202 and len(few.json()["ids"]) == 1  # 1,000 spellings, 5,000 entries: one copy
