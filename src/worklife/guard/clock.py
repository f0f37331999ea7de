"""Injectable clocks: library code never asks the system for "now" by itself.

``SystemClock`` is what ``worklife guard serve`` uses; tests pass a ``ManualClock``
and move it forward to make held messages come due.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything with ``now() -> datetime`` (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime):
        self._t = require_aware(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._t

    def set(self, t: datetime) -> None:
        with self._lock:
            self._t = require_aware(t)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._t = self._t + timedelta(seconds=seconds)
            return self._t


def require_aware(t: datetime) -> datetime:
    """``t`` converted to UTC; raise ValueError on a naive datetime (never guess its zone)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"naive datetime {t.isoformat()}: pass a timezone-aware instant")
    return t.astimezone(UTC)


def to_ms(t: datetime) -> int:
    """Aware datetime -> integer milliseconds since the Unix epoch (UTC)."""
    return round(require_aware(t).timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Milliseconds since the Unix epoch -> aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
