"""End to end in one process: SMTP in, held by the queue, delivered to a real SMTP sink on
127.0.0.1 when a controllable clock reaches the recipient's window."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from test_guard_support import (  # noqa: F401 (fixtures)
    SENDER,
    SENDER_TOKEN,
    LoopThread,
    people_csv,
    service,
    sink,
    tokens_file,
    utc,
)

from worklife.guard.auth import parse_networks
from worklife.guard.delivery import REPLY_HEADER, Deliverer
from worklife.guard.smtp import start_smtp


@pytest.fixture
def guard_smtp(service):  # noqa: F811
    lt = LoopThread()
    server = lt.run(start_smtp(service, "127.0.0.1", 0, allow_plain_auth=True))
    port = server.sockets[0].getsockname()[1]
    yield port

    async def close() -> None:  # on the loop's own thread: asyncio servers are not thread-safe
        server.close()

    lt.run(close())
    lt.stop()


def mail(to: list[str], subject: str = "Quarterly numbers", body: str = "See attached.\n") -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = SENDER, ", ".join(to), subject
    m.set_content(body)
    return m


def client(port: int, login: bool = True) -> smtplib.SMTP:
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    if login:
        s.login(SENDER, SENDER_TOKEN)
    return s


def deliverer(service, sink) -> Deliverer:  # noqa: F811
    return Deliverer(service.queue, service.directory, service.policy, service.clock, f"127.0.0.1:{sink.port}")


def test_held_until_the_window_then_delivered_once(service, sink, guard_smtp):  # noqa: F811
    to = ["user01@example.com", "user02@example.com", "always@example.com"]
    with client(guard_smtp) as s:
        s.send_message(mail(to))
    worker = deliverer(service, sink)
    # Wed 10:00Z: Paris (11:00) and the always-open recipient get it now; New York (05:00) waits.
    assert worker.run_once().delivered == 2
    assert sorted(r for _, rcpts, _ in sink.received for r in rcpts) == ["always@example.com", "user01@example.com"]
    service.clock.set(utc(2026, 3, 4, 13, 59))
    assert worker.run_once().claimed == 0
    service.clock.set(utc(2026, 3, 4, 14))  # 09:00 EST
    assert worker.run_once().delivered == 1
    assert worker.run_once().claimed == 0
    msgs = [m for _, _, m in sink.received]
    assert len(msgs) == 3 and len(sink.unique()) == 3
    assert len({m["Message-ID"] for m in msgs}) == 1  # one message, one Message-ID, kept on every copy
    assert all(m["X-Worklife-Delivery"].endswith("/" + r[0]) for _, r, m in sink.received)
    assert service.queue.counts()["delivered"] == 3


def test_lunch_quiet_hours_hold_a_paris_message(service, sink, guard_smtp):  # noqa: F811
    service.clock.set(utc(2026, 3, 4, 11, 15))  # 12:15 in Paris, inside user01's 12:00-13:00 quiet hours
    with client(guard_smtp) as s:
        s.send_message(mail(["user01@example.com"]))
    worker = deliverer(service, sink)
    assert worker.run_once().claimed == 0
    service.clock.set(utc(2026, 3, 4, 12))  # 13:00 in Paris
    assert worker.run_once().delivered == 1


def test_deliver_now_mode_adds_reply_header_and_footer(service, sink, guard_smtp):  # noqa: F811
    with client(guard_smtp) as s:
        s.send_message(mail(["user04@example.com"]))
    assert deliverer(service, sink).run_once().delivered == 1
    (_, _, m), = sink.received
    assert m[REPLY_HEADER] == "2026-03-04T09:00:00-03:00 (America/Argentina/Buenos_Aires)"
    assert "No reply is expected before 2026-03-04T09:00:00-03:00" in m.get_payload(decode=True).decode()


def test_upstream_failures_retry_with_backoff_then_dead_letter(service, sink, guard_smtp):  # noqa: F811
    sink.fail_with = "451 4.3.0 upstream busy"
    with client(guard_smtp) as s:
        s.send_message(mail(["always@example.com"]))
    (mid,) = [r["id"] for r in service.queue.deliveries()]
    worker = deliverer(service, sink)
    assert worker.run_once().retried == 1
    row = service.queue.get(mid)
    # Attempt 1 failed at 10:00Z: retry after 60 s (guard.retry_base_seconds), then 120 s.
    assert (row["state"], row["attempts"], row["due_ms"]) == ("held", 1, 1772618460000)
    assert "451" in row["last_error"]
    service.clock.advance(60)
    assert worker.run_once().retried == 1
    service.clock.advance(119)
    assert worker.run_once().claimed == 0
    service.clock.advance(1)
    assert worker.run_once().dead == 1  # third attempt of 3
    assert service.queue.get(mid)["state"] == "dead"
    assert service.queue.counts()["dead"] == 1


def test_permanent_upstream_refusal_is_dead_at_once(service, sink, guard_smtp):  # noqa: F811
    sink.fail_with = "554 5.7.1 rejected by policy"
    with client(guard_smtp) as s:
        s.send_message(mail(["always@example.com"]))
    assert deliverer(service, sink).run_once().dead == 1


def test_upstream_down_is_retried_not_lost(service, guard_smtp):  # noqa: F811
    with client(guard_smtp) as s:
        s.send_message(mail(["always@example.com"]))
    worker = Deliverer(service.queue, service.directory, service.policy, service.clock, "127.0.0.1:9")
    assert worker.run_once().retried == 1
    assert "upstream 127.0.0.1:9" in service.queue.deliveries()[0]["last_error"]


def test_urgent_release_is_delivered_now_and_marked(service, sink, guard_smtp):  # noqa: F811
    with client(guard_smtp) as s:
        s.send_message(mail(["user02@example.com"]))
    mid = service.queue.deliveries()[0]["id"]
    service.urgent(mid, SENDER, "force_majeure", "server room flooding")
    assert deliverer(service, sink).run_once().delivered == 1
    assert sink.received[0][2]["X-Worklife-Urgent"] == "force_majeure"


def test_library_enqueue_for_the_digest_helper(service, sink):  # noqa: F811
    from worklife.guard.intake import enqueue

    ids = enqueue(service.queue, "digest@example.com", ["user02@example.com", "user03@example.com"],
                  "Weekly digest", "3 items.", directory=service.directory, now=service.clock.now(),
                  policy=service.policy, idempotency_key="digest-2026-W10")
    assert len(ids) == 2
    again = enqueue(service.queue, "digest@example.com", ["user02@example.com", "user03@example.com"],
                    "Weekly digest", "3 items.", directory=service.directory, now=service.clock.now(),
                    policy=service.policy, idempotency_key="digest-2026-W10")
    assert again == ids
    assert deliverer(service, sink).run_once().delivered == 1  # Kolkata is in hours; New York is not


# -- bad SMTP input -------------------------------------------------------------------------
def _expect(code: int, text: str, fn) -> None:
    with pytest.raises(smtplib.SMTPException) as info:
        fn()
    exc = info.value
    got_code = getattr(exc, "smtp_code", None)
    got_text = getattr(exc, "smtp_error", b"")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        got_code, got_text = next(iter(exc.recipients.values()))
    assert got_code == code and text in got_text.decode()


def test_smtp_needs_authentication(guard_smtp):
    with client(guard_smtp, login=False) as s:
        _expect(530, "Authentication required", lambda: s.sendmail(SENDER, ["always@example.com"], b"Subject: x\r\n\r\nx"))


def test_smtp_rejects_a_bad_password(guard_smtp):
    with smtplib.SMTP("127.0.0.1", guard_smtp, timeout=10) as s:
        _expect(535, "Authentication", lambda: s.login(SENDER, "wrong"))


def test_smtp_rejects_an_unknown_recipient(guard_smtp):
    with client(guard_smtp) as s:
        _expect(550, "unknown recipient", lambda: s.sendmail(SENDER, ["nobody@example.com"], b"Subject: x\r\n\r\nx"))


def test_smtp_rejects_an_oversized_message(guard_smtp):
    big = b"Subject: big\r\n\r\n" + (b"x" * 76 + b"\r\n") * 400  # > 20,000 bytes (test limit)
    with client(guard_smtp) as s:
        _expect(552, "message size exceeds", lambda: s.sendmail(SENDER, ["always@example.com"], big))


def test_smtp_rejects_malformed_mime(guard_smtp, service):  # noqa: F811
    broken = b"From: sender01@example.com\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nno parts\r\n"
    with client(guard_smtp) as s:
        _expect(554, "malformed MIME", lambda: s.sendmail(SENDER, ["always@example.com"], broken))
    assert service.queue.counts()["held"] == 0


def test_smtp_rejects_sending_as_someone_else(guard_smtp):
    with client(guard_smtp) as s:
        _expect(553, "cannot send as", lambda: s.sendmail("sender02@example.com", ["always@example.com"], b"x"))


def test_smtp_refuses_clients_outside_the_configured_networks(service, guard_smtp):  # noqa: F811
    service.networks = parse_networks(["10.0.0.0/8"])
    with smtplib.SMTP("127.0.0.1", guard_smtp, timeout=10) as s:
        _expect(535, "Authentication", lambda: s.login(SENDER, SENDER_TOKEN))


def test_smtp_250_means_committed(service, guard_smtp):  # noqa: F811
    with client(guard_smtp) as s:
        refused = s.sendmail(SENDER, ["user02@example.com"], mail(["user02@example.com"]).as_bytes())
    assert refused == {}
    import sqlite3

    con = sqlite3.connect(service.queue.path)  # a fresh connection sees the row: it was committed
    assert con.execute("SELECT count(*) FROM deliveries WHERE state='held'").fetchone()[0] == 1
    con.close()


def test_a_slow_round_hands_claims_back_before_their_lease_ends(service, sink):  # noqa: F811
    from dataclasses import replace

    from worklife.guard.intake import enqueue

    enqueue(service.queue, SENDER, ["always@example.com"], "s", "b", directory=service.directory,
            now=service.clock.now(), policy=service.policy)
    hasty = replace(service.policy, claim_lease_seconds=1e-9)  # every round is "too slow"
    worker = Deliverer(service.queue, service.directory, hasty, service.clock, f"127.0.0.1:{sink.port}")
    report = worker.run_once()
    assert (report.claimed, report.delivered) == (1, 0)
    assert service.queue.counts()["held"] == 1 and sink.received == []
