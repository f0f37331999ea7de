"""A fuzz of the SMTP dialogue (hypothesis): random commands, addresses with CR/LF/NUL and
other bytes, random and hostile message bodies, against the guard's SMTP front on 127.0.0.1.

Properties: the server never crashes (a new connection is always served, no handler error
reaches a client), never answers 451 to anything a client sent (only a failing queue
may), never accepts an address that an independent addr-spec check rejects, and every
stored message is well formed: valid addresses, no Bcc, From: the authenticated sender.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import string
from email import message_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_guard_addresses import nested
from test_guard_support import PEOPLE_CSV, SENDER, SENDER_TOKEN, TOKENS_TOML, smtp_front, utc

from worklife.config import Config
from worklife.guard.auth import Tokens, parse_networks
from worklife.guard.clock import ManualClock
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Queue
from worklife.guard.service import GuardService

ATEXT = set(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-")
LDH = set(string.ascii_letters + string.digits + "-")


def oracle_valid(address: str) -> bool:
    """An independent addr-spec check for the addresses generated here (no quoted local parts)."""
    if len(address.encode("utf-8")) > 254 or address.count("@") != 1:
        return False
    local, domain = address.split("@")
    if not 0 < len(local) <= 64 or not 0 < len(domain) <= 255:
        return False
    if any(not part or not set(part) <= ATEXT for part in local.split(".")):
        return False
    return all(0 < len(lb) <= 63 and set(lb) <= LDH and lb[0] != "-" and lb[-1] != "-"
               for lb in domain.split("."))


@pytest.fixture(scope="module")
def guard(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "people.csv").write_text(PEOPLE_CSV)
    (tmp / "tokens.toml").write_text(TOKENS_TOML)
    config = Config({"guard.max_recipients": 20, "guard.max_message_bytes": 200_000, "guard.max_mime_depth": 30})
    directory = Directory.from_sources(config, people=tmp / "people.csv", fallback_tz="UTC")
    directory.relay_domains = ["example.com"]
    queue = Queue(tmp / "queue.sqlite")
    svc = GuardService(queue, directory, GuardPolicy.from_config(config), ManualClock(utc(2026, 3, 4, 3)),
                       Tokens.load(tmp / "tokens.toml"), parse_networks(config["guard.smtp_networks"]))

    async def no_wait(seconds: float) -> None:
        return None

    with smtp_front(svc, no_wait):
        yield svc
    queue.close()


# -- strategies --------------------------------------------------------------------------
atoms = st.text(alphabet=sorted(ATEXT), min_size=1, max_size=12)
labels = st.text(alphabet=sorted(LDH), min_size=1, max_size=12)
plausible = st.builds(lambda loc, dom: f"{'.'.join(loc)}@{'.'.join(dom)}",
                      st.lists(atoms, min_size=1, max_size=3),
                      st.one_of(st.just(["example", "com"]), st.lists(labels, min_size=1, max_size=3)))
HOSTILE = ["\r", "\x00", "\t", " ", "<", ">", ",", "@", ".", "..", "é", "\x7f", ":", "\\", "(", ")", "[", "]",
           "\r\nRCPT TO:<evil@evil.test>", "a" * 70]


@st.composite
def mutated(draw) -> str:
    addr = draw(plausible)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(addr)))
        addr = addr[:pos] + draw(st.sampled_from(HOSTILE)) + addr[pos:]
    return addr


addresses = st.one_of(plausible, mutated(), st.text(max_size=40))


def auth_line(password: str) -> bytes:
    return b"AUTH PLAIN " + base64.b64encode(f"\0{SENDER}\0{password}".encode())


def mail_body(frm: str, extra: str = "") -> bytes:
    return f"From: {frm}\r\nTo: always@example.com\r\nSubject: fuzz\r\n{extra}\r\nbody\r\n".encode()


bodies = st.one_of(
    st.just(mail_body(SENDER)),
    st.just(mail_body(SENDER, "Bcc: hidden@example.com\r\n")),
    st.just(mail_body(SENDER, "Bcc: a@example.com,\r\n b@example.com\r\nResent-Bcc: c@example.com\r\n")),
    st.text(max_size=80).map(lambda t: mail_body(SENDER, f"Subject2: {t}\r\n".replace("\x00", ""))),
    st.just(mail_body("CEO <ceo@example.com>")),
    st.integers(1, 60).map(lambda d: nested(d)),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
VERBS = ["EHLO", "HELO", "MAIL FROM:", "RCPT TO:", "RSET", "NOOP", "VRFY", "HELP", "XYZZY", "mail from:"]
random_command = st.builds(lambda verb, arg: (verb + " " + arg).encode("utf-8", "surrogatepass"),
                           st.sampled_from(VERBS), st.text(max_size=60).filter(lambda t: "DATA" not in t.upper()
                                                                                  and "AUTH" not in t.upper()))


GOOD_RCPTS = ["always@example.com", "user01@example.com", "someone@example.com"]


@st.composite
def transaction(draw) -> list[bytes]:
    """MAIL, RCPTs, maybe a stray command, DATA: mostly well-formed envelopes around hostile parts."""
    sender = draw(st.one_of(st.just(SENDER), st.just(SENDER), addresses))
    lines = [b"MAIL FROM:<" + sender.encode("utf-8", "surrogatepass") + b">"]
    for _ in range(draw(st.integers(1, 3))):
        rcpt = draw(st.one_of(st.sampled_from(GOOD_RCPTS), addresses))
        lines.append(b"RCPT TO:<" + rcpt.encode("utf-8", "surrogatepass") + b">")
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(random_command))
    body = draw(bodies).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n").replace(b"\r\n.", b"\r\n..")
    lines.append(b"DATA\r\n" + body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".")
    if draw(st.booleans()):
        lines.append(b"RSET")
    return lines


@st.composite
def dialogue(draw) -> list[bytes]:
    lines = [b"EHLO fuzz.example.com", auth_line(draw(st.sampled_from([SENDER_TOKEN, SENDER_TOKEN, "wrong"])))]
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(random_command))
        else:
            lines.extend(draw(transaction()))
    return lines


# -- helpers -----------------------------------------------------------------------------
def converse(port: int, lines: list[bytes]) -> list[bytes]:
    """Send the lines pipelined, then QUIT, and return every reply line until the server closes.

    No half-close: aiosmtpd takes EOF as a lost connection and cancels a DATA in progress.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"".join(line + b"\r\n" for line in lines) + b"QUIT\r\n")
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")


def one_reply(s: socket.socket) -> bytes:
    buf = b""
    while True:
        buf += s.recv(4096)
        lines = buf.split(b"\r\n")
        done = [ln for ln in lines[:-1] if ln[3:4] == b" "]
        if done:
            return done[0]


def assert_alive(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        assert one_reply(s).startswith(b"220")
        s.sendall(b"NOOP\r\n")
        assert one_reply(s).startswith(b"250")


def assert_queue_clean(svc: GuardService) -> None:
    """Whatever got in is well formed (accepted messages do get in: see the module test below)."""
    for sender, rcpt in svc.queue.read("SELECT sender, recipient FROM deliveries"):
        assert oracle_valid(sender) and oracle_valid(rcpt), (sender, rcpt)
    for (raw,) in svc.queue.read("SELECT raw FROM submissions"):
        msg = message_from_bytes(raw)
        assert msg["Bcc"] is None
        assert [a.lower() for a in msg.get_all("From")] == [SENDER]


# -- properties --------------------------------------------------------------------------
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=dialogue())
def test_random_dialogues_never_crash_or_451(guard, lines):
    replies = converse(guard.port, lines)
    codes = [r[:3] for r in replies if r[:3].isdigit()]
    assert b"451" not in codes, replies
    assert not any(b"500 Error: (" in r for r in replies), replies  # an exception inside a handler
    assert_alive(guard.port)
    assert_queue_clean(guard)


@settings(max_examples=400, deadline=None)
@given(address=addresses.filter(lambda a: "\n" not in a))
def test_an_address_is_accepted_only_when_it_is_a_valid_addr_spec(guard, address):
    line = b"RCPT TO:<" + address.encode("utf-8", "surrogatepass") + b">"
    with socket.create_connection(("127.0.0.1", guard.port), timeout=10) as s:
        one_reply(s)
        for cmd in (b"EHLO fuzz.example.com", auth_line(SENDER_TOKEN), b"MAIL FROM:<" + SENDER.encode() + b">"):
            s.sendall(cmd + b"\r\n")
            assert one_reply(s)[:1] in (b"2", b"3")
        s.sendall(line + b"\r\n")
        reply = one_reply(s)
    expected = oracle_valid(address) and address.rpartition("@")[2].lower() == "example.com"
    assert reply.startswith(b"250") == expected, (address, reply)
    assert not reply.startswith(b"4"), (address, reply)


def test_the_fuzzed_guard_did_accept_well_formed_mail(guard):
    """Run after the fuzz (same module-scoped guard): it still takes a well-formed message."""
    before = sum(guard.queue.counts().values())
    with smtplib.SMTP("127.0.0.1", guard.port, timeout=10) as s:
        s.login(SENDER, SENDER_TOKEN)
        assert s.sendmail(SENDER, ["always@example.com"], mail_body(SENDER)) == {}
    assert sum(guard.queue.counts().values()) == before + 1
    assert_queue_clean(guard)
