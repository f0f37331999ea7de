"""The app database: accounts, sessions, sign-in attempts and correction requests.

A small SQLite file beside the store (``worklife.duckdb`` -> ``worklife.app.sqlite``,
or ``app.users_db``), not tables in the store: the store is opened read-only by the
app and rewritten by ingest, while accounts and sessions change on every sign-in.
Passwords are hashed with Argon2id (``argon2-cffi`` defaults); session tokens are kept
only as SHA-256 digests, so a copy of the file does not give anyone a live session.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from worklife.config import Config
from worklife.errors import ConfigError

ROLES = ("employee", "manager", "analyst", "admin")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    person_id TEXT,
    teams TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at_ms);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    person_id TEXT,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

CORRECTION_FIELDS = ("tz", "work_hours", "workdays")
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    """An account. ``person_id``: the person in the store it speaks for (None: nobody)."""

    email: str
    role: str
    person_id: str | None
    teams: tuple[str, ...]  # managers: teams they may see; empty: derived from the store

    def as_dict(self) -> dict[str, object]:
        return {"email": self.email, "role": self.role, "person_id": self.person_id, "teams": list(self.teams)}


@dataclass(frozen=True)
class Session:
    email: str
    csrf: str
    expires_ms: int


def users_db_path(store_path: str | Path, config: Config) -> Path:
    """Where the app database lives: ``app.users_db``, else beside the store."""
    configured = str(config["app.users_db"]).strip()
    if configured:
        return Path(configured)
    p = Path(store_path)
    return p.with_name(p.stem + ".app.sqlite")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (an Argon2 hash); False for no or a bad hash."""
    if not stored:
        _HASHER.hash(password)  # spend the same time, so timing does not reveal unknown accounts
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


class AppDb:
    """Thread-safe access to the app database (one connection, one lock; writes are tiny)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA foreign_keys=ON")
        self._con.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def _q(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _x(self, sql: str, params: tuple = ()) -> int:
        with self._lock:
            return self._con.execute(sql, params).rowcount

    # -- accounts -------------------------------------------------------------------------
    def add_user(self, email: str, role: str, password: str | None, person_id: str | None = None,
                 teams: tuple[str, ...] = ()) -> User:
        """Create an account; ConfigError for a bad role, a taken e-mail or a short password."""
        email = normalise_email(email)
        check_role(role)
        if password is not None and len(password) < 10:
            raise ConfigError("password must have at least 10 characters")
        if self.get_user(email) is not None:
            raise ConfigError(f"user {email} exists; use `worklife users set-role` or remove it first")
        pw = hash_password(password) if password is not None else None
        self._x("INSERT INTO users(email, role, person_id, teams, password_hash, created_ms) VALUES (?,?,?,?,?,?)",
                (email, role, person_id, ",".join(teams), pw, now_ms()))
        return User(email, role, person_id, tuple(teams))

    def get_user(self, email: str) -> User | None:
        rows = self._q("SELECT email, role, person_id, teams FROM users WHERE email=?", (normalise_email(email),))
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [_user(r) for r in self._q("SELECT email, role, person_id, teams FROM users ORDER BY email")]

    def remove_user(self, email: str) -> bool:
        email = normalise_email(email)
        self._x("DELETE FROM sessions WHERE email=?", (email,))
        return self._x("DELETE FROM users WHERE email=?", (email,)) > 0

    def set_role(self, email: str, role: str) -> bool:
        """Change a role; the account's sessions end (its rights changed)."""
        check_role(role)
        email = normalise_email(email)
        self._x("DELETE FROM sessions WHERE email=?", (email,))
        return self._x("UPDATE users SET role=? WHERE email=?", (role, email)) > 0

    def verify(self, email: str, password: str) -> User | None:
        """The account when ``password`` is right, else None (same cost either way)."""
        rows = self._q("SELECT password_hash FROM users WHERE email=?", (normalise_email(email),))
        ok = check_password(rows[0][0] if rows else None, password)
        return self.get_user(email) if ok else None

    # -- sessions -------------------------------------------------------------------------
    def new_session(self, email: str, hours: float) -> tuple[str, Session]:
        """A fresh random token (returned once, stored hashed) and its session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = now_ms()
        expires = now + int(hours * 3_600_000)
        self._x("DELETE FROM sessions WHERE expires_ms < ?", (now,))
        self._x("INSERT INTO sessions(token_sha, email, csrf, created_ms, expires_ms) VALUES (?,?,?,?,?)",
                (_sha(token), normalise_email(email), csrf, now, expires))
        return token, Session(normalise_email(email), csrf, expires)

    def session(self, token: str) -> Session | None:
        rows = self._q("SELECT email, csrf, expires_ms FROM sessions WHERE token_sha=? AND expires_ms>=?",
                       (_sha(token), now_ms()))
        return Session(*rows[0]) if rows else None

    def end_session(self, token: str) -> None:
        self._x("DELETE FROM sessions WHERE token_sha=?", (_sha(token),))

    # -- sign-in throttle -----------------------------------------------------------------
    def failures(self, key: str, window_ms: int) -> int:
        return int(self._q("SELECT count(*) FROM login_failures WHERE key=? AND at_ms>=?",
                           (key, now_ms() - window_ms))[0][0])

    def record_failure(self, *keys: str) -> None:
        at = now_ms()
        for key in keys:
            self._x("INSERT INTO login_failures(key, at_ms) VALUES (?,?)", (key, at))
        self._x("DELETE FROM login_failures WHERE at_ms < ?", (at - 86_400_000,))

    def clear_failures(self, key: str) -> None:
        self._x("DELETE FROM login_failures WHERE key=?", (key,))

    # -- correction requests --------------------------------------------------------------
    def add_correction(self, email: str, person_id: str | None, field: str, value: str, note: str) -> int:
        if field not in CORRECTION_FIELDS:
            raise ConfigError(f"field must be one of {', '.join(CORRECTION_FIELDS)}")
        with self._lock:
            cur = self._con.execute(
                "INSERT INTO corrections(email, person_id, field, value, note, created_ms) VALUES (?,?,?,?,?,?)",
                (normalise_email(email), person_id, field, value[:200], note[:1000], now_ms()))
            return int(cur.lastrowid or 0)

    def corrections(self, email: str | None = None) -> list[dict[str, object]]:
        cols = ("id", "email", "person_id", "field", "value", "note", "created_ms")
        where, params = ("WHERE email=?", (normalise_email(email),)) if email else ("", ())
        rows = self._q(f"SELECT {', '.join(cols)} FROM corrections {where} ORDER BY id DESC LIMIT 500", params)
        return [dict(zip(cols, r)) for r in rows]

    # -- secrets --------------------------------------------------------------------------
    def secret(self, name: str) -> str:
        """A random secret kept in the app database (created on first use)."""
        self._x("INSERT OR IGNORE INTO secrets(name, value) VALUES (?, ?)", (name, secrets.token_hex(32)))
        return str(self._q("SELECT value FROM secrets WHERE name=?", (name,))[0][0])


def _user(row: tuple) -> User:
    email, role, person_id, teams = row
    return User(email, role, person_id, tuple(t for t in (teams or "").split(",") if t))


def normalise_email(email: str) -> str:
    e = email.strip().lower()
    if not e or "@" not in e or any(c.isspace() for c in e) or len(e) > 254:
        raise ConfigError(f"not an e-mail address: {email!r}")
    return e


def check_role(role: str) -> None:
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
