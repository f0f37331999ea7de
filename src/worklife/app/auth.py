"""Sign-in, sessions, CSRF and the sign-in throttle.

- Session: a random token in an HTTP-only, SameSite=Strict cookie (``Secure`` unless
  ``app.cookie_secure`` is off; then the name loses its ``__Host-`` prefix); the app
  database keeps its SHA-256 only. Sign-out deletes it; a new sign-in ends the session
  the browser had before (a fresh token every time, never one the client brought).
- CSRF: every form carries the session's random token (synchronizer pattern); the
  sign-in form, before any session, a token matched against a short-lived cookie
  (double submit). The JSON API accepts only ``application/json`` bodies, which a
  cross-site form cannot send.
- Throttle: after ``app.login_max_failures`` failures within ``app.login_window_minutes``
  for an e-mail, or four times that for a client address (an IPv6 address counted by its
  /64, as the guard does), sign-in answers 429 without checking the password.
- Trusted header (off by default): with ``app.trusted_header`` set, a request from an
  address in ``app.trusted_proxies`` naming an existing account in that header is
  signed in as that account.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from worklife.app.users import AppDb, Session, User
from worklife.config import Config
from worklife.errors import ConfigError
from worklife.guard.limits import client_key  # one rule for a client address: IPv6 by its /64

LOGIN_COOKIE = "wl_login"  # the sign-in form's token cookie (``__Host-wl_login`` when Secure)


@dataclass
class Auth:
    """The app's authentication settings and state."""

    db: AppDb
    config: Config

    @property
    def cookie_name(self) -> str:
        return "__Host-worklife" if self.secure else "worklife_session"

    @property
    def login_cookie(self) -> str:
        """The sign-in form's token cookie: a ``__Host-`` cookie when Secure, so a sibling host
        of the same site cannot plant a known token (login CSRF)."""
        return f"__Host-{LOGIN_COOKIE}" if self.secure else LOGIN_COOKIE

    @property
    def secure(self) -> bool:
        return bool(self.config["app.cookie_secure"])

    @property
    def max_failures(self) -> int:
        return int(self.config["app.login_max_failures"])

    @property
    def window_ms(self) -> int:
        return int(float(self.config["app.login_window_minutes"]) * 60_000)

    # -- who is asking ----------------------------------------------------------------------
    def current(self, request: Request) -> tuple[User, Session, str] | None:
        """(user, session, token) of the request's session cookie, if valid."""
        token = request.cookies.get(self.cookie_name)
        if not token or len(token) > 200:
            return None
        session = self.db.session(token)
        if session is None:
            return None
        user = self.db.get_user(session.email)
        return (user, session, token) if user else None

    def header_user(self, request: Request) -> User | None:
        """The account named by the trusted SSO header, when enabled and from a trusted proxy."""
        header = str(self.config["app.trusted_header"]).strip()
        if not header or request.client is None:
            return None
        value = request.headers.get(header)
        if not value or not self._trusted(request.client.host):
            return None
        try:
            return self.db.get_user(value)
        except ConfigError:
            return None

    def _trusted(self, host: str) -> bool:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in ipaddress.ip_network(n, strict=False) for n in self.config["app.trusted_proxies"])

    # -- signing in and out -----------------------------------------------------------------
    def throttled(self, email: str, client: str) -> bool:
        return (self.db.failures(f"email:{email.strip().lower()}", self.window_ms) >= self.max_failures
                or self.db.failures(client_key(client), self.window_ms) >= self.max_failures * 4)

    def sign_in(self, email: str, password: str, client: str) -> User | None:
        """The account if the password is right; records a failure otherwise."""
        key = f"email:{email.strip().lower()}"
        try:
            user = self.db.verify(email, password)
        except ConfigError:
            user = None
        if user is None:
            self.db.record_failure(key, client_key(client))
            return None
        self.db.clear_failures(key)
        return user

    def open_session(self, user: User) -> tuple[str, Session]:
        return self.db.new_session(user.email, float(self.config["app.session_hours"]))

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(self.cookie_name, token, max_age=int(float(self.config["app.session_hours"]) * 3600),
                            path="/", secure=self.secure, httponly=True, samesite="strict")

    def rotate_session(self, request: Request, user: User) -> tuple[str, Session]:
        """A fresh session for ``user``; the session the request came with, if any, ends
        (signing in again on a shared browser leaves nothing alive behind the new cookie)."""
        old = request.cookies.get(self.cookie_name)
        if old and len(old) <= 200:
            self.db.end_session(old)
        return self.open_session(user)

    def start_session(self, request: Request, response: Response, user: User) -> Session:
        """``rotate_session``, its token set in ``response``'s cookie."""
        token, session = self.rotate_session(request, user)
        self.set_session_cookie(response, token)
        return session

    def end_session(self, request: Request, response: Response) -> None:
        token = request.cookies.get(self.cookie_name)
        if token:
            self.db.end_session(token)
        response.delete_cookie(self.cookie_name, path="/", secure=self.secure, httponly=True, samesite="strict")

    # -- CSRF -------------------------------------------------------------------------------
    def login_token(self, request: Request) -> str:
        """The pre-session CSRF token of the sign-in form (reused while its cookie lives)."""
        return request.cookies.get(self.login_cookie) or secrets.token_urlsafe(24)

    def set_login_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(self.login_cookie, token, max_age=3600, path="/", secure=self.secure,
                            httponly=True, samesite="strict")


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))
