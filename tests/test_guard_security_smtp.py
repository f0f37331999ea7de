"""The SMTP front as an attacker with valid credentials would use it (aiosmtpd on 127.0.0.1,
smtplib as the client): invalid addresses, spoofed From:, Bcc, relaying, the recipient
cap, the one-line 250, over-deep MIME and AUTH guessing."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest
from test_guard_addresses import nested
from test_guard_support import (  # noqa: F401 (fixtures)
    SENDER,
    SENDER_TOKEN,
    LoopThread,
    people_csv,
    sink,
    smtp_front,
    tokens_file,
    utc,
)

from worklife.config import Config
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import ManualClock
from worklife.guard.delivery import Deliverer
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService
from worklife.guard.smtp import queued_reply


@pytest.fixture
def guard(tmp_path, people_csv, tokens_file):  # noqa: F811
    """A guard as `serve --default-tz UTC` runs it: relays to example.com only, cap 150 recipients."""
    config = Config({"guard.max_recipients": 150})
    directory = Directory.from_sources(config, people=people_csv, fallback_tz="UTC")
    directory.relay_domains = ["example.com"]
    queue = Queue(tmp_path / "queue.sqlite")
    svc = GuardService(queue, directory, GuardPolicy.from_config(config), ManualClock(utc(2026, 3, 4, 10)),
                       Tokens.load(tokens_file), parse_networks(config["guard.smtp_networks"]))
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    svc.delays = delays
    with smtp_front(svc, record):
        yield svc
    queue.close()


def login(svc) -> smtplib.SMTP:
    s = smtplib.SMTP("127.0.0.1", svc.port, timeout=10)
    s.login(SENDER, SENDER_TOKEN)
    return s


def mail(frm: str = SENDER, to: str = "always@example.com", **extra: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, to, "numbers"
    for k, v in extra.items():
        m[k.replace("_", "-")] = v
    m.set_content("See attached.\n")
    return m.as_bytes()


def command(s: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
    s.send(line + b"\r\n")
    return s.getreply()


def test_a_bare_cr_or_nul_in_an_address_is_refused(guard):
    with login(guard) as s:
        s.ehlo()
        assert command(s, b"MAIL FROM:<" + SENDER.encode() + b">")[0] == 250
        for bad in (b"RCPT TO:<x@example.com\rRCPT TO:<evil@evil.test>", b"RCPT TO:<x\x00@example.com>",
                    b"RCPT TO:<" + b"a" * 65 + b"@example.com>"):
            code, text = command(s, bad)
            assert code == 501, (bad, code, text)
        assert command(s, b"RSET")[0] == 250
        code, _ = command(s, b"MAIL FROM:<sender01@example.com\r>")
        assert code == 501
    assert guard.queue.counts()["held"] == 0


def test_a_spoofed_from_header_is_553(guard):
    with login(guard) as s:
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.sendmail(SENDER, ["always@example.com"], mail(frm="CEO <ceo@example.com>"))
        assert info.value.smtp_code == 553 and b"ceo@example.com" in info.value.smtp_error
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.sendmail(SENDER, ["always@example.com"], mail(Sender="ceo@example.com"))
        assert info.value.smtp_code == 553
        assert s.sendmail(SENDER, ["always@example.com"], mail(frm="Sender One <SENDER01@example.com>")) == {}
    assert guard.queue.counts()["held"] == 1


def test_bcc_never_reaches_the_upstream(guard, sink):  # noqa: F811
    with login(guard) as s:
        s.sendmail(SENDER, ["always@example.com", "user01@example.com"],
                   mail(Bcc="user01@example.com", Resent_Bcc="secret@example.com"))
    assert Deliverer(guard.queue, guard.directory, guard.policy, guard.clock,
                     f"127.0.0.1:{sink.port}").run_once().delivered == 2
    for _, _, m in sink.received:
        assert m["Bcc"] is None and m["Resent-Bcc"] is None


def test_relaying_outside_the_configured_domains_is_550(guard):
    with login(guard) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            s.sendmail(SENDER, ["victim@elsewhere.test"], mail())
    code, text = info.value.recipients["victim@elsewhere.test"]
    assert code == 550 and b"guard.relay_domains" in text


def test_300_recipients_get_one_short_250_and_the_cap_refuses_the_rest(guard):
    rcpts = [f"r{i:03d}@example.com" for i in range(300)]
    with login(guard) as s:
        refused = s.sendmail(SENDER, rcpts, mail())  # does not raise: the 250 line is short
        code, text = s.noop()
    assert code == 250
    assert sorted(refused) == rcpts[150:]
    assert {c for c, _ in refused.values()} == {452}  # RFC 5321 4.5.3.1.10: send the rest later
    assert guard.queue.counts()["held"] + guard.queue.counts()["sending"] == 150


def test_the_250_reply_is_one_line_under_512_octets(guard):
    guard.policy = GuardPolicy.from_config(Config({"guard.max_recipients": 300}))
    rcpts = [f"r{i:03d}@example.com" for i in range(300)]
    with login(guard) as s:
        s.ehlo()
        s.mail(SENDER)
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, text = s.data(mail())
    assert code == 250 and b"\n" not in text and len(text) < 100
    ids = sorted(r["id"] for r in guard.queue.deliveries(limit=1000))
    assert text == f"2.0.0 OK queued as {ids[0]}-{ids[-1]} (300 recipients)".encode()


def test_queued_reply_formats():
    assert queued_reply([7]) == "250 2.0.0 OK queued as 7"
    assert queued_reply(list(range(17, 317))) == "250 2.0.0 OK queued as 17-316 (300 recipients)"
    assert len(queued_reply(list(range(10**9, 10**9 + 5000)))) < 80


@pytest.mark.parametrize("depth", [150, 3000])
def test_over_deep_mime_is_a_permanent_554(guard, depth):
    with login(guard) as s:
        with pytest.raises(smtplib.SMTPDataError) as info:
            s.sendmail(SENDER, ["always@example.com"], nested(depth))
    assert info.value.smtp_code == 554 and b"max_mime_depth" in info.value.smtp_error


def attempt(s: smtplib.SMTP, password: str) -> int | str:
    """One AUTH PLAIN attempt (smtplib's login() would try PLAIN and LOGIN: two attempts)."""
    s.user, s.password = SENDER, password
    try:
        return s.auth("PLAIN", s.auth_plain)[0]
    except smtplib.SMTPAuthenticationError as exc:
        return exc.smtp_code
    except smtplib.SMTPServerDisconnected:
        return "disconnected"


def test_auth_failures_are_slowed_down_then_the_connection_is_dropped(guard):
    s = smtplib.SMTP("127.0.0.1", guard.port, timeout=10)
    s.ehlo()
    codes = [attempt(s, "wrong-token") for _ in range(3)]
    assert codes[:2] == [535, 535] and codes[2] in (421, "disconnected")
    assert guard.delays == [1.0, 2.0, 4.0]  # guard.auth_failure_delay_seconds, doubling
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError, socket.error)):
        s.noop()
    # The next connection from the same address starts where the last one stopped.
    with smtplib.SMTP("127.0.0.1", guard.port, timeout=10) as again:
        again.ehlo()
        assert attempt(again, "still-wrong") == 535
        assert guard.delays[-1] == 8.0
        assert attempt(again, SENDER_TOKEN) == 235  # the right token still works
