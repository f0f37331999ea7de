"""Addresses and header fields as data: the addr-spec validator, header objects, Bcc removal,
From:/Sender: parsing and the MIME depth measure (worklife.guard.addresses/headers)."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy
from email.parser import BytesParser

import pytest

from worklife.errors import GuardError
from worklife.guard.addresses import domain_allowed, valid_address
from worklife.guard.headers import author_addresses, drop_fields, header_line, mime_depth, prepend_headers
from worklife.guard.intake import parse_mime


@pytest.mark.parametrize(("text", "expected"), [
    ("alice@example.com", "alice@example.com"),
    ("<alice@example.com>", "alice@example.com"),
    ("  bob.smith+tag@mail.example.com ", "bob.smith+tag@mail.example.com"),
    ('"odd local"@example.com', '"odd local"@example.com'),
    ("user@[192.0.2.1]", "user@[192.0.2.1]"),
    ("user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]"),
    ("a" * 64 + "@" + "b" * 63 + ".example", "a" * 64 + "@" + "b" * 63 + ".example"),
    ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
])
def test_valid_addresses_are_accepted(text, expected):
    assert valid_address(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("x@example.com>\r\nRCPT TO:<evil@evil.test", "control character"),
    ("x@example.com\n", "control character"),
    ("x\r@example.com", "control character"),
    ("x@exa\x00mple.com", "control character"),
    ("x@example.com\t", "control character"),
    ("x\x7f@example.com", "control character"),
    ("a" * 65 + "@example.com", "local part longer than 64"),
    ("a@" + ".".join(["b" * 63] * 4) + ".com", "longer than"),
    ("a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example", "longer than 254"),
    ("no-at-sign", "not local@domain"),
    ("@example.com", "not local@domain"),
    ("alice@", "no domain"),
    ("alice@example.com, bob@example.com", "local part"),
    ("Alice <alice@example.com>", "local part"),
    ("alice@exa mple.com", "host name"),
    ("alice@-example.com", "host name"),
    ("alice@example..com", "host name"),
    ("alice..x@example.com", "local part"),
    ("@route.example:alice@example.com", "local part"),
    ("jörg@example.com", "not ASCII"),
    ("alice@[300.1.1.1]", "address literal"),
    ('"unterminated@example.com', "local part"),
])
def test_invalid_addresses_are_refused_with_a_reason(text, why):
    with pytest.raises(GuardError) as info:
        valid_address(text, "recipient")
    assert info.value.status == 422 and why in str(info.value)


def test_relay_domain_matching():
    assert domain_allowed("example.com", ["example.com"])
    assert domain_allowed("EXAMPLE.com", ["example.com"])
    assert not domain_allowed("mail.example.com", ["example.com"])
    assert domain_allowed("mail.example.com", [".example.com"])
    assert not domain_allowed("example.com.evil.test", ["example.com", ".example.com"])
    assert not domain_allowed("badexample.com", [".example.com"])


def test_header_lines_are_header_objects_and_refuse_line_breaks():
    assert header_line("X-Worklife-Delivery", "abc/bob@example.com") == b"X-Worklife-Delivery: abc/bob@example.com\r\n"
    assert header_line("Subject", "Café") == b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n"
    for value in ("a\r\nBcc: evil@evil.test", "a\nX: y", "a\rb", "nul\x00"):
        with pytest.raises(GuardError):
            header_line("X-Worklife-Delivery", value)
    with pytest.raises(GuardError):
        header_line("Bad Name", "x")
    long = header_line("Subject", " ".join(["word"] * 40))
    assert all(len(line) <= 78 for line in long.split(b"\r\n"))


def test_prepended_fields_follow_the_message_line_endings():
    lf = prepend_headers(b"Subject: s\n\nbody\n", [("X-A", "1")])
    assert lf == b"X-A: 1\nSubject: s\n\nbody\n"
    crlf = prepend_headers(b"Subject: s\r\n\r\nbody\r\n", [("X-A", "1")])
    assert crlf == b"X-A: 1\r\nSubject: s\r\n\r\nbody\r\n"


def test_bcc_and_resent_bcc_fields_are_removed_with_their_continuations():
    raw = (b"From: a@example.com\r\nBcc: hidden@example.com,\r\n other@example.com\r\nTo: b@example.com\r\n"
           b"RESENT-BCC: x@example.com\r\nSubject: keep\r\n\r\nBcc: this line is body text\r\n")
    out, n = drop_fields(raw, {"bcc", "resent-bcc"})
    assert n == 2
    assert out == (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: keep\r\n\r\n"
                   b"Bcc: this line is body text\r\n")
    assert drop_fields(b"Subject: x\n\nbody", {"bcc"}) == (b"Subject: x\n\nbody", 0)


def parsed(raw: bytes):
    return BytesParser(policy=email_policy.compat32).parsebytes(raw)


def test_author_addresses_reads_every_from_and_sender_mailbox():
    msg = parsed(b"From: \"CEO\" <CEO@example.com>, bob@example.com\r\nSender: =?utf-8?q?B=C3=B6b?= "
                 b"<bob@example.com>\r\n\r\nx")
    assert author_addresses(msg) == ["ceo@example.com", "bob@example.com", "bob@example.com"]
    two = parsed(b"From: bob@example.com\r\nFrom: ceo@example.com\r\n\r\nx")
    assert author_addresses(two) == ["bob@example.com", "ceo@example.com"]


@pytest.mark.parametrize("value", [b"alice@example.com <bob@evil.test>", b"garbage", b"<>"])
def test_an_unreadable_from_is_refused(value):
    with pytest.raises(GuardError) as info:
        author_addresses(parsed(b"From: " + value + b"\r\n\r\nx"))
    assert info.value.status == 422


def nested(depth: int) -> bytes:
    """A message whose multiparts nest ``depth`` levels below the top one."""
    head = b"".join(b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1)
                    for i in range(depth))
    tail = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    leaf = b"--b%d\r\nContent-Type: text/plain\r\n\r\nx\r\n--b%d--\r\n" % (depth, depth)
    return (b'From: sender01@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
            + head + leaf + tail)


def test_mime_depth_is_measured_without_recursion():
    assert mime_depth(parsed(b"Subject: x\r\n\r\nbody")) == 1
    assert mime_depth(parsed(nested(5))) == 7  # top + 5 nested multiparts + the text leaf


@pytest.mark.parametrize("depth", [150, 3000])
def test_over_deep_mime_is_malformed_not_an_internal_error(depth):
    with pytest.raises(GuardError) as info:
        parse_mime(nested(depth), 10_000_000, max_depth=100)
    assert info.value.status == 422 and "max_mime_depth" in str(info.value)


def test_mime_within_the_depth_limit_is_accepted():
    msg = parse_mime(nested(20), 10_000_000, max_depth=100)
    assert message_from_bytes(nested(20))["Subject"] == msg["Subject"] == "deep"
