"""The delivery worker: claim due rows, re-check the window, send upstream, record.

Each round: hand expired leases back, claim up to ``claim_batch`` due rows atomically,
and for each one

1. re-plan a ``hold`` row from the recipient's *current* schedule: if the recipient is
   not inside a window now (their zone or hours changed while the message was held, or
   a retry landed at night), the row goes back to held, due at their next window;
2. otherwise send it with ``smtplib`` to the upstream, RCPT TO that one recipient,
   adding ``X-Worklife-Delivery`` (batch/recipient), ``X-Worklife-Urgent`` for urgent
   releases, and for ``deliver_now`` rows the reply header and footer;
3. record: delivered; a temporary failure (4xx, connection) goes back to held with
   exponential backoff (``retry_base_seconds * 2**(attempt-1)``); a permanent 5xx or
   ``retry_max_attempts`` exhausted ends in the visible ``dead`` state.

Delivery is at least once: a crash after the upstream said 250 but before the row is
marked delivered resends it after the lease ends, with the same Message-ID and
X-Worklife-Delivery header, so an upstream (or sink) that drops repeats of a key it has
seen shows each message exactly once. See docs/guard.md.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesParser

from worklife.errors import GuardError
from worklife.guard.clock import Clock, from_ms, to_ms
from worklife.guard.directory import Directory
from worklife.guard.headers import prepend_headers
from worklife.guard.intake import GuardPolicy
from worklife.guard.queue import Claimed, Queue
from worklife.guard.retention import Purger, PurgeReport, Retention
from worklife.guard.schedule import local_iso, next_window

log = logging.getLogger(__name__)

REPLY_HEADER = "X-Worklife-Reply-Not-Expected-Before"


@dataclass
class RoundReport:
    """What one worker round did (counts of deliveries)."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    rescheduled: int = 0
    purged: PurgeReport | None = None


def parse_hostport(text: str) -> tuple[str, int]:
    """'HOST:PORT' -> (host, port); GuardError for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise GuardError(f"invalid upstream {text!r}; expected HOST:PORT", 400)
    return host.strip("[]"), int(port)


def outgoing_bytes(c: Claimed, policy: GuardPolicy) -> bytes:
    """The bytes sent upstream for one claimed copy."""
    # Header objects (worklife.guard.headers): a value holding CR/LF is refused, never pasted.
    headers = [("X-Worklife-Delivery", f"{c.batch}/{c.recipient.lower()}")]
    if c.urgent_reason:
        headers.append(("X-Worklife-Urgent", c.urgent_reason))
    if c.mode != "deliver_now" or c.urgent_reason:
        return prepend_headers(c.raw, headers)
    local = local_iso(from_ms(c.window_ms), c.tz)
    headers.append((REPLY_HEADER, f"{local} ({c.tz})"))
    msg = BytesParser(policy=email_policy.SMTP).parsebytes(c.raw)
    footer = "\n\n-- \n" + policy.reply_footer.format(local=local, tz=c.tz) + "\n"
    part = msg.get_body(preferencelist=("plain",))
    if part is not None and not part.is_multipart():
        try:
            part.set_content(part.get_content() + footer, subtype="plain", charset="utf-8")
        except (KeyError, LookupError):
            log.warning("delivery %s: could not add the footer to its text part", c.id)
    # Headers are prepended after the body change, so the re-serialisation cannot refold them.
    return prepend_headers(msg.as_bytes(policy=email_policy.SMTP), headers)


class Deliverer:
    """Sends due messages to one upstream SMTP server."""

    def __init__(self, queue: Queue, directory: Directory, policy: GuardPolicy, clock: Clock,
                 upstream: str, timeout: float = 30.0):
        self.queue = queue
        self.directory = directory
        self.policy = policy
        self.clock = clock
        self.upstream = parse_hostport(upstream)
        self.timeout = timeout
        self.wake = threading.Event()
        self._last_version = directory.version
        self.purger = Purger(queue, Retention(policy.keep_delivered_days, policy.keep_dead_days,
                                              policy.keep_records_days, policy.keep_audit_days))

    def run_once(self) -> RoundReport:
        """One round: reclaim expired leases, claim due rows, send them, then purge what is due
        (bodies of finished messages, old records: worklife.guard.retention). Returns counts."""
        report = self._deliver()
        report.purged = self.purger.run(to_ms(self.clock.now()))
        return report

    def _deliver(self) -> RoundReport:
        report = RoundReport()
        now_ms = to_ms(self.clock.now())
        self.queue.reclaim_expired(now_ms)
        claimed = self.queue.claim(now_ms, self.policy.claim_batch, int(self.policy.claim_lease_seconds * 1000))
        report.claimed = len(claimed)
        if not claimed:
            return report
        smtp: smtplib.SMTP | None = None
        started = time.monotonic()
        budget = self.policy.claim_lease_seconds / 2  # never send on a lease about to expire
        try:
            for n, c in enumerate(claimed):
                if time.monotonic() - started > budget:
                    for rest in claimed[n:]:  # hand the rest back, due now, for the next round
                        self.queue.reschedule(rest, to_ms(self.clock.now()), rest.tz)
                    log.warning("slow upstream: %d claimed message(s) handed back before their lease ended",
                                len(claimed) - n)
                    break
                if self._replan(c, report):
                    continue
                smtp = self._send(smtp, c, report)
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
        return report

    def _replan(self, c: Claimed, report: RoundReport) -> bool:
        """Hand back a hold-mode row whose recipient is not in a window now; True if handed back."""
        if c.mode != "hold" or c.urgent_reason:
            return False
        try:
            sched = self.directory.lookup(c.recipient)
        except GuardError:
            log.warning("delivery %s: %s is no longer in the directory; delivering as planned", c.id, c.recipient)
            return False
        now = self.clock.now()
        window = next_window(sched, now)
        if window <= now:
            return False
        self.queue.reschedule(c, to_ms(window), sched.tz)
        report.rescheduled += 1
        log.info("delivery %s re-held until %s (%s)", c.id, window.isoformat(), sched.tz)
        return True

    def _send(self, smtp: smtplib.SMTP | None, c: Claimed, report: RoundReport) -> smtplib.SMTP | None:
        attempt = c.attempts + 1
        try:
            data = outgoing_bytes(c, self.policy)
        except GuardError as exc:  # e.g. a row stored before addresses were validated: never retried
            self._failed(c, self.policy.retry_max_attempts, 554, f"554 not relayed: {exc}", report)
            return smtp
        try:
            if smtp is None:
                smtp = smtplib.SMTP(self.upstream[0], self.upstream[1], timeout=self.timeout)
            else:
                smtp.rset()
            smtp.sendmail(c.sender, [c.recipient], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._failed(c, attempt, int(code), f"{code} {text!r}", report)
            return smtp
        except (smtplib.SMTPResponseException, smtplib.SMTPSenderRefused) as exc:
            self._failed(c, attempt, int(exc.smtp_code), f"{exc.smtp_code} {exc.smtp_error!r}", report)
            if exc.smtp_code >= 500:
                _drop(smtp)
                return None
            return smtp
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._failed(c, attempt, 0, f"upstream {self.upstream[0]}:{self.upstream[1]}: {exc}", report)
            _drop(smtp)
            return None
        if self.queue.mark_delivered(c, to_ms(self.clock.now())):
            report.delivered += 1
        else:
            log.warning("delivery %s: sent, but its claim had expired (a duplicate send is possible)", c.id)
        return smtp

    def _failed(self, c: Claimed, attempt: int, code: int, error: str, report: RoundReport) -> None:
        if 500 <= code < 600 or attempt >= self.policy.retry_max_attempts:
            self.queue.mark_dead(c, error, to_ms(self.clock.now()))
            report.dead += 1
            log.error("delivery %s to %s is dead after %d attempt(s): %s", c.id, c.recipient, attempt, error)
            return
        delay_s = self.policy.retry_base_seconds * 2 ** (attempt - 1)
        self.queue.mark_retry(c, to_ms(self.clock.now()) + int(delay_s * 1000), error)
        report.retried += 1
        log.warning("delivery %s to %s failed (attempt %d), retry in %.0f s: %s",
                    c.id, c.recipient, attempt, delay_s, error)

    def replan_held(self) -> int:
        """Re-plan every held hold-mode row from the current directory (after it changed), so a
        recipient whose window moved earlier is not kept waiting. Returns rows changed."""
        now = self.clock.now()
        changed, after = 0, 0
        while True:
            page = self.queue.held(limit=5000, after_id=after)
            if not page:
                return changed
            updates = []
            for rid, rcpt, mode, due_ms in page:
                if mode != "hold":
                    continue
                try:
                    sched = self.directory.lookup(rcpt)
                except GuardError:
                    continue
                due = to_ms(next_window(sched, now))
                if due != due_ms:
                    updates.append((rid, due, sched.tz))
            changed += self.queue.replan(updates) if updates else 0
            after = page[-1][0]

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; sleeps ``poll_seconds`` (or until woken) when idle."""
        while not stop.is_set():
            try:
                if self.directory.maybe_reload() or self.directory.version != self._last_version:
                    self._last_version = self.directory.version
                    n = self.replan_held()
                    log.info("directory changed: %d held message(s) re-planned", n)
                report = self.run_once()
            except Exception:  # the worker must outlive one bad round
                log.exception("delivery round failed")
                report = RoundReport()
            if report.claimed < self.policy.claim_batch:
                self.wake.wait(self.policy.poll_seconds)
                self.wake.clear()


def _drop(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.close()
        except OSError:
            pass
