"""The SMTP relay front (aiosmtpd).

Only clients from ``guard.smtp_networks`` that authenticated (AUTH PLAIN or LOGIN, user
name = sender address, password = that sender's token) may send, and only as
themselves or an alias, in MAIL FROM and in From:/Sender:. Replies:

- 250 after DATA only once the message is committed, one short line naming the delivery
  ids as a range (``queued as 17-316 (300 recipients)``), far under RFC 5321's 512 octets;
- 535 bad credentials, each answered after a growing delay (``AuthThrottle``); after
  ``guard.auth_max_failures`` failures 421 and the connection is closed; AUTH from a client
  still locked by earlier failures: 421 without checking the credentials;
- 501 5.1.3 an address that is not a valid addr-spec (control characters, too long, ...);
- 550 5.1.1 unknown recipient; 550 5.7.1 a domain that is not relayed (at RCPT TO);
- 452 4.5.3 past ``guard.max_recipients`` (the client sends the rest in another message);
- 552 message too large (aiosmtpd enforces ``guard.max_message_bytes`` during DATA);
- 554 5.6.0 malformed or over-deep MIME;  553 5.7.1 wrong sender (MAIL FROM or From:);
- 554 5.7.1 network not allowed;
- 451 4.3.0 only when the queue cannot commit (the client retries later).

Production: pass a TLS certificate (``--tls-cert``/``--tls-key``) so that STARTTLS is
required before AUTH; plain AUTH without TLS is only allowed on loopback listeners.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import warnings
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from worklife.errors import GuardError
from worklife.guard.addresses import has_control, valid_address
from worklife.guard.audit import audit
from worklife.guard.auth import peer_allowed
from worklife.guard.limits import client_key
from worklife.guard.service import GuardService

log = logging.getLogger(__name__)


class GuardHandler:
    """aiosmtpd handler: checks network, sender and recipients, stores the message."""

    def __init__(self, service: GuardService):
        self.service = service

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        # On failure handled=True: GuardSMTP.smtp_AUTH answers it, after the throttle's delay.
        ok, user = False, None
        if not peer_allowed(session.peer, self.service.networks):
            log.warning("SMTP AUTH refused: %s is outside guard.smtp_networks", session.peer)
        elif isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            ok = self.service.tokens.check_login(user, auth_data.password.decode("utf-8", "replace"))
        if ok and user is not None:
            return AuthResult(success=True, handled=False, auth_data=user.lower())
        session.guard_auth_failed = True  # type: ignore[attr-defined]
        session.guard_auth_user = user  # type: ignore[attr-defined]
        return AuthResult(success=False, handled=True)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if not peer_allowed(session.peer, self.service.networks):
            return "554 5.7.1 Client network not allowed"
        try:
            address = valid_address(address, "sender")
        except GuardError as exc:
            return f"501 5.1.7 {_one_line(str(exc))}"
        if session.auth_data and not self.service.may_send_as(str(session.auth_data), address):
            return f"553 5.7.1 Authenticated as {session.auth_data}; cannot send as <{address}>"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            address = valid_address(address, "recipient")
        except GuardError as exc:
            return f"501 5.1.3 {_one_line(str(exc))}"
        if len(envelope.rcpt_tos) >= self.service.policy.max_recipients:
            return f"452 4.5.3 Too many recipients (guard.max_recipients={self.service.policy.max_recipients})"
        try:
            self.service.directory.lookup(address)
        except GuardError as exc:
            if exc.status == 403:
                return f"550 5.7.1 <{address}>: {_one_line(str(exc))}"
            return f"550 5.1.1 <{address}>: unknown recipient"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        who = str(session.auth_data) if session.auth_data else None
        try:
            deliveries, _ = await self.service.submit(
                envelope.mail_from or "", list(envelope.rcpt_tos), raw=raw, via="smtp", who=who)
        except GuardError as exc:
            return data_reply(exc)
        except Exception:
            log.exception("SMTP DATA failed")
            return "451 4.3.0 Temporary failure, try again later"
        return queued_reply([int(d["id"]) for d in deliveries])


def envelope_path(arg: str, keyword: str) -> str | None:
    """The text between ``<`` and its closing ``>`` after ``FROM:``/``TO:`` (quotes respected), or
    None when there is no such path. ``FROM:< a@b >`` gives `` a@b `` (refused later: RFC 5321
    has no spaces in a path, though aiosmtpd's parser would skip them)."""
    if arg[:len(keyword)].upper() != keyword:
        return None
    rest = arg[len(keyword):].lstrip(" ")
    if not rest.startswith("<"):
        return None
    quoted = escaped = False
    for i, ch in enumerate(rest[1:], start=1):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ">" and not quoted:
            return rest[1:i]
    return rest[1:]  # unterminated: validated (and refused) as is


def _one_line(text: str) -> str:
    """Reply text on one line of at most 400 characters (RFC 5321: a reply line is <= 512)."""
    return " ".join(text.split())[:400]


def data_reply(exc: GuardError) -> str:
    """The SMTP reply to a refused DATA: permanent for anything about the message itself."""
    text = _one_line(str(exc))
    if exc.status == 413:
        return f"552 5.3.4 {text}"
    if exc.status == 403:
        return f"553 5.7.1 {text}"
    if exc.status == 404:
        return f"550 5.1.1 {text}"
    if exc.status >= 500:  # the queue could not commit: temporary
        return f"451 4.3.0 {text}"
    return f"554 5.6.0 {text}"


def queued_reply(ids: list[int]) -> str:
    """One short 250 line for a committed message: its delivery ids as a range."""
    if not ids:
        return "250 2.0.0 OK"
    if len(ids) == 1:
        return f"250 2.0.0 OK queued as {ids[0]}"
    first, last = min(ids), max(ids)
    span = f"{first}-{last}" if last - first + 1 == len(ids) else f"{first}..{last}"
    return f"250 2.0.0 OK queued as {span} ({len(ids)} recipients)"


class GuardSMTP(SMTP):
    """aiosmtpd's SMTP with throttled AUTH failures (a growing delay, then 421 and close) and
    MAIL/RCPT lines holding a control character refused before aiosmtpd's parser, which
    would skip a bare CR as white space."""

    async def smtp_MAIL(self, arg: str | None) -> None:
        if await self._strict_path(arg, "FROM:"):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        if await self._strict_path(arg, "TO:"):
            await super().smtp_RCPT(arg)

    async def _strict_path(self, arg: str | None, keyword: str) -> bool:
        """False (after a 501) when the <path> is not exactly an addr-spec in angle brackets."""
        if arg and has_control(arg):
            await self.push("501 5.5.4 Control character in the command")
            return False
        path = envelope_path(arg or "", keyword)
        if path is None:  # no <...> at all: aiosmtpd answers the syntax error itself
            return True
        try:
            if path != path.strip(" "):
                raise GuardError(f"address {path!r}: no spaces allowed in a <path> (RFC 5321)", 422)
            valid_address(path)
        except GuardError as exc:
            await self.push(f"501 5.1.3 {_one_line(str(exc))}")
            return False
        return True

    async def smtp_AUTH(self, arg: str) -> None:
        session = self.session
        handler: GuardHandler = self.event_handler
        throttle = handler.service.throttle
        if session is not None and not session.authenticated:
            wait = throttle.retry_after(client_key(session.peer))
            if wait > 0:  # locked by failures on other connections: refused unchecked
                log.warning("SMTP AUTH from %s refused unchecked: locked for %.0f s", session.peer, wait)
                await self.push(f"421 4.7.0 Too many failed authentication attempts, try again in {math.ceil(wait)} s")
                if self.transport is not None:
                    self.transport.close()
                return
            session.guard_auth_failed = False  # type: ignore[attr-defined]
        await super().smtp_AUTH(arg)
        if session is None or not getattr(session, "guard_auth_failed", False):
            return
        failures = getattr(session, "guard_auth_failures", 0) + 1
        session.guard_auth_failures = failures  # type: ignore[attr-defined]
        key = client_key(session.peer)
        cost = throttle.fail(key)
        audit("auth_failed", channel="smtp", client=key, user=getattr(session, "guard_auth_user", None),
              failures=throttle.failures(key), locked_s=math.ceil(throttle.retry_after(key)))
        await throttle.sleep(cost)
        if failures >= throttle.max_failures:
            log.warning("SMTP AUTH: %d failures from %s, closing the connection", failures, session.peer)
            await self.push("421 4.7.0 Too many failed authentication attempts, closing connection")
            if self.transport is not None:
                self.transport.close()
            return
        await self.push("535 5.7.8 Authentication credentials invalid")


def make_smtp_factory(service: GuardService, hostname: str = "worklife-guard",
                      tls_context: ssl.SSLContext | None = None, allow_plain_auth: bool = False):
    """A protocol factory for ``loop.create_server``. Without TLS, ``allow_plain_auth`` must be
    True (the CLI sets it only for loopback listeners)."""
    handler = GuardHandler(service)
    if tls_context is None and not allow_plain_auth:
        raise GuardError("SMTP AUTH without TLS is only allowed on a loopback listener; pass --tls-cert/--tls-key", 400)

    def factory() -> SMTP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # aiosmtpd warns about AUTH without TLS (loopback only here)
            return GuardSMTP(handler, hostname=hostname, data_size_limit=service.policy.max_message_bytes,
                        authenticator=handler.authenticate, auth_required=True,
                        auth_require_tls=tls_context is not None, tls_context=tls_context,
                        require_starttls=tls_context is not None, timeout=300)

    return factory


async def start_smtp(service: GuardService, host: str, port: int, **kw: Any) -> asyncio.base_events.Server:
    """Listen for SMTP on host:port in the running loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(make_smtp_factory(service, **kw), host=host, port=port)
