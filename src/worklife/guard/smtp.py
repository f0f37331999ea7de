"""The SMTP relay front (aiosmtpd).

Only clients from ``guard.smtp_networks`` that authenticated (AUTH PLAIN or LOGIN, user
name = sender address, password = that sender's token) may send, and only as
themselves. Replies:

- 250 after DATA only once the message is committed to the queue;
- 550 5.1.1 unknown recipient (at RCPT TO);
- 552 message too large (aiosmtpd enforces ``guard.max_message_bytes`` during DATA);
- 554 5.6.0 malformed MIME;  553 5.7.1 wrong sender;  554 5.7.1 network not allowed;
- 451 4.3.0 when the queue cannot commit (the client retries later).

Production: pass a TLS certificate (``--tls-cert``/``--tls-key``) so that STARTTLS is
required before AUTH; plain AUTH without TLS is only allowed on loopback listeners.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import warnings
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from worklife.errors import GuardError
from worklife.guard.auth import peer_allowed
from worklife.guard.service import GuardService

log = logging.getLogger(__name__)


class GuardHandler:
    """aiosmtpd handler: checks network, sender and recipients, stores the message."""

    def __init__(self, service: GuardService):
        self.service = service

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        # handled=False: aiosmtpd answers the failure itself (535 5.7.8).
        if not peer_allowed(session.peer, self.service.networks):
            log.warning("SMTP AUTH refused: %s is outside guard.smtp_networks", session.peer)
            return AuthResult(success=False, handled=False)
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = self.service.tokens.check_login(user, auth_data.password.decode("utf-8", "replace"))
        if not ok:
            log.warning("SMTP AUTH failed for %r from %s", user, session.peer)
        return AuthResult(success=ok, handled=False, auth_data=user.lower() if ok else None)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        if not peer_allowed(session.peer, self.service.networks):
            return "554 5.7.1 Client network not allowed"
        if session.auth_data and address.lower() != str(session.auth_data):
            return f"553 5.7.1 Authenticated as {session.auth_data}; cannot send as <{address}>"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        try:
            self.service.directory.lookup(address)
        except GuardError:
            return f"550 5.1.1 <{address}>: unknown recipient"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        try:
            deliveries, _ = await self.service.submit(
                envelope.mail_from or "", list(envelope.rcpt_tos), raw=raw, via="smtp")
        except GuardError as exc:
            if exc.status == 413:
                return f"552 5.3.4 {exc}"
            if exc.status == 404:
                return f"550 5.1.1 {exc}"
            if exc.status >= 500:
                return f"451 4.3.0 {exc}"
            return f"554 5.6.0 {exc}"
        except Exception:
            log.exception("SMTP DATA failed")
            return "451 4.3.0 Temporary failure, try again later"
        ids = " ".join(str(d["id"]) for d in deliveries)
        return f"250 2.0.0 OK queued as {ids}"


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
            return SMTP(handler, hostname=hostname, data_size_limit=service.policy.max_message_bytes,
                        authenticator=handler.authenticate, auth_required=True,
                        auth_require_tls=tls_context is not None, tls_context=tls_context,
                        require_starttls=tls_context is not None, timeout=300)

    return factory


async def start_smtp(service: GuardService, host: str, port: int, **kw: Any) -> asyncio.base_events.Server:
    """Listen for SMTP on host:port in the running loop."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(make_smtp_factory(service, **kw), host=host, port=port)
