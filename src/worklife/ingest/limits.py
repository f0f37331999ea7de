"""Limits every reader shares, so hostile or broken input costs bounded work and loses nothing silently.

    lim = Limits.from_config(ctx.config)
    if not lim.instant_ok(sent): batch.reject(where, lim.instant_reason(sent))

- **instants**: every stored instant lies in ``[ingest.earliest_year, ingest.latest_year]``
  (default 1970-2100); ``guard_batch`` (called by the writer before anything is
  committed) quarantines a row outside it, with its dependants, whatever the adapter;
- **sizes**: a JSON document nested deeper than ``ingest.max_depth``, a member bigger than
  ``ingest.max_member_bytes``, a mail header block bigger than ``ingest.max_header_bytes``,
  a field bigger than ``ingest.max_field_bytes`` quarantine that record (or cut the field,
  with a note), never the source;
- **text**: NUL bytes and C0/C1 control characters are dropped from stored strings;
- **excerpts**: quarantine excerpts are at most ``EXCERPT_BYTES`` bytes of UTF-8 with
  e-mail addresses replaced by ``<address>``;
- **files**: ``walk`` lists the regular files of a source folder without leaving it
  (symlinks out of the root and loops are skipped, FIFOs and devices noted).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

EXCERPT_BYTES = 200
_EMAIL = re.compile(r"[^\s<>\"'(),;:\[\]@]{1,64}@[A-Za-z0-9.\-_\[\]]{1,255}")
# C0 controls except TAB, LF, CR; DEL; C1 controls (U+0080..U+009F)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")


@dataclass(frozen=True)
class Limits:
    """The limits in force (see ``ingest.*`` in the settings registry)."""

    earliest_year: int = 1970
    latest_year: int = 2100
    max_depth: int = 64
    max_member_bytes: int = 200_000_000
    max_header_bytes: int = 16_000_000
    max_field_bytes: int = 1_000_000
    max_recipients: int = 100_000

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        get = config.get if hasattr(config, "get") else (lambda k, d=None: d)
        d = cls()
        return cls(
            earliest_year=int(get("ingest.earliest_year", d.earliest_year)),
            latest_year=int(get("ingest.latest_year", d.latest_year)),
            max_depth=int(get("ingest.max_depth", d.max_depth)),
            max_member_bytes=int(get("ingest.max_member_bytes", d.max_member_bytes)),
            max_header_bytes=int(get("ingest.max_header_bytes", d.max_header_bytes)),
            max_field_bytes=int(get("ingest.max_field_bytes", d.max_field_bytes)),
            max_recipients=int(get("ingest.max_recipients", d.max_recipients)),
        )

    # -- instants ------------------------------------------------------------------------
    @property
    def earliest(self) -> datetime:
        return datetime(self.earliest_year, 1, 1)

    @property
    def latest(self) -> datetime:
        """The first instant no longer accepted (1 January after ``latest_year``), naive UTC."""
        return datetime(min(self.latest_year + 1, 9999), 1, 1)

    def instant_ok(self, value: date | datetime | None) -> bool:
        """Whether a (naive UTC, aware, or date) instant lies in the accepted range; None is fine."""
        if value is None:
            return True
        if not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        return self.earliest_year <= value.year <= self.latest_year

    def instant_reason(self, value: object) -> str:
        return (f"instant {value} outside {self.earliest_year}-{self.latest_year} "
                "(a placeholder or broken date; widen ingest.earliest_year/latest_year if it is real)")

    def clamp_day(self, value: date) -> date:
        """A date moved into the accepted range (for windows and spans)."""
        lo, hi = date(self.earliest_year, 1, 1), date(self.latest_year, 12, 31)
        return min(max(value, lo), hi)


DEFAULT = Limits()


# -- text ----------------------------------------------------------------------------------
def has_control(value: str) -> bool:
    """Whether ``value`` holds a NUL byte or another control character ``clean_text`` drops."""
    return _CONTROL.search(value) is not None


def clean_text(value: str) -> str:
    """A string without NUL bytes and control characters (tab and newlines kept)."""
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


def cut_text(value: str, limit: int) -> tuple[str, bool]:
    """(``value`` cut to ``limit`` characters, whether it was cut)."""
    return (value, False) if len(value) <= limit else (value[:limit], True)


def redact(text: str) -> str:
    """``text`` with e-mail addresses replaced by ``<address>``."""
    return _EMAIL.sub("<address>", text)


def excerpt(text: str | bytes | None, limit: int = EXCERPT_BYTES) -> str:
    """A quarantine excerpt: control characters dropped, addresses redacted, at most ``limit`` UTF-8 bytes."""
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text[: limit * 8].decode("utf-8", "replace")
    text = redact(clean_text(text[: limit * 8]))
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


# -- JSON ----------------------------------------------------------------------------------
class TooDeep(ValueError):
    """A JSON document nested deeper than the limit."""


def json_depth(raw: bytes | str, limit: int) -> int:
    """Nesting depth of a JSON text up to ``limit + 1`` (strings skipped), without parsing it."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    depth = deepest = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


_OPENERS = re.compile(rb"[\[{]")


def load_json(raw: bytes, limit: Limits = DEFAULT) -> Any:
    """``json.loads`` with the size and depth limits: ValueError (a one-line reason) when over.

    The depth scan runs only when the text has many brackets, so ordinary files pay nothing.
    """
    if len(raw) > limit.max_member_bytes:
        raise ValueError(f"{len(raw)} bytes, over ingest.max_member_bytes ({limit.max_member_bytes})")
    if len(_OPENERS.findall(raw[:1_000_000])) > limit.max_depth and json_depth(raw, limit.max_depth) > limit.max_depth:
        raise TooDeep(f"JSON nested deeper than ingest.max_depth ({limit.max_depth})")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except RecursionError as exc:  # pragma: no cover - the depth scan catches this first
        raise TooDeep("JSON nested too deeply to read") from exc


# -- files ---------------------------------------------------------------------------------
@dataclass
class Walk:
    """What ``walk`` skipped, counted by reason (turned into notes by the adapter)."""

    skipped: Counter[str] = field(default_factory=Counter)

    def notes(self, root: Path | str) -> list[str]:
        return [f"{root}: {n} {why} skipped" for why, n in sorted(self.skipped.items())]


def inside(root: Path | str, path: Path | str) -> bool:
    """Whether ``path`` (symlinks resolved) lies inside ``root`` (resolved)."""
    try:
        real = os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):
        return False
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def regular_file(root: Path | str, path: str, walk: Walk) -> bool:
    """Whether ``path`` is a regular file inside ``root``; counts why not in ``walk``."""
    try:
        st = os.stat(path)
    except OSError:
        walk.skipped["broken or looping symlinks"] += 1
        return False
    if not stat.S_ISREG(st.st_mode):
        if not stat.S_ISDIR(st.st_mode):
            walk.skipped["FIFOs, sockets or devices (not regular files)"] += 1
        elif os.path.islink(path):
            walk.skipped["folder symlinks (not followed)"] += 1
        return False
    if os.path.islink(path) and not inside(root, path):
        walk.skipped["symlinks leading outside the source folder"] += 1
        return False
    return True


def walk(root: Path | str, walk_state: Walk | None = None) -> Iterator[Path]:
    """Regular files under ``root``, sorted, depth first, never leaving it.

    Directory symlinks are not followed; file symlinks are followed only when they
    resolve inside ``root``; FIFOs, sockets and devices are skipped (never opened).
    """
    state = walk_state if walk_state is not None else Walk()
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            state.skipped["unreadable folders"] += 1
            continue
        subdirs = []
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                subdirs.append(e.path)
            elif regular_file(root, e.path, state):
                yield Path(e.path)
        stack.extend(reversed(subdirs))

