"""What every ingest adapter shares: the batch it yields, the context it reads, the writer.

An adapter is a module with ``KIND`` (str), ``detect(path) -> bool`` and
``read(path, ctx) -> Iterator[Batch]``. It streams: it yields batches of canonical rows
(dicts keyed by the column names of ``worklife.store.TABLES``) and quarantine records
as it goes, never the whole file at once. The framework (``worklife.ingest.run``)
resolves people, upserts on natural keys (so re-ingesting changes nothing), counts,
and writes ``ingest_log``.

Row conventions (see docs/architecture.md):
- instants are timezone-aware ``datetime`` in UTC when yielded; the writer stores them
  as UTC ``TIMESTAMP``. A naive datetime is a bug in the adapter: ``to_utc`` raises.
- people are referenced by address (e-mail, Slack user id, git author e-mail) in the
  ``*_id`` columns; ``ctx.person_id(address)`` turns an address into a ``person_id``.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from worklife.config import Config

CANONICAL = (
    "people",
    "person_aliases",
    "meetings",
    "meeting_attendees",
    "messages",
    "message_recipients",
    "outcomes",
)


@dataclass
class Quarantined:
    """A record that could not be read: where (``file:line`` or ``file#id``) and why."""

    location: str
    reason: str
    excerpt: str = ""


@dataclass
class Batch:
    """Canonical rows and quarantine records read from one part of a source."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in CANONICAL})
    quarantine: list[Quarantined] = field(default_factory=list)
    read: int = 0  # records read from the source in this batch (good, bad or skipped)
    skipped: int = 0  # records read that are not activity (Slack joins, edits): neither stored nor bad
    notes: list[str] = field(default_factory=list)  # facts about the source worth telling (not errors)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)

    def reject(self, location: str, reason: str, excerpt: str = "") -> None:
        self.quarantine.append(Quarantined(location, reason, excerpt[:500]))

    def __len__(self) -> int:
        return sum(len(v) for v in self.rows.values()) + len(self.quarantine)


@dataclass
class IngestContext:
    """What an adapter may know about the run: config, owner, expansion window, people."""

    config: Config
    owner: str | None = None  # person_id or e-mail of the calendar/mailbox owner
    owner_how: str | None = None  # how the owner was found (``--owner`` when None)
    window: tuple[date, date] | None = None  # recurrence expansion window (local dates)
    aliases: dict[str, str] = field(default_factory=dict)  # lower-cased address -> person_id
    people_tz: dict[str, str] = field(default_factory=dict)  # person_id -> IANA zone
    data_span: tuple[date, date] | None = None  # UTC dates of messages/outcomes already stored
    batch_size: int = 5000

    def person_id(self, address: str | None) -> str | None:
        """The person_id an address belongs to: an alias if known, else the address lower-cased."""
        if address is None:
            return None
        a = address.strip().lower()
        if a.startswith("mailto:"):
            a = a[7:]
        if not a:
            return None
        return self.aliases.get(a, a)


class Adapter(Protocol):
    KIND: str

    def detect(self, path: Path) -> bool: ...

    def read(self, path: Path, ctx: IngestContext) -> Iterator[Batch]: ...


def to_utc(value: datetime) -> datetime:
    """A timezone-aware datetime as naive UTC (how the store keeps instants)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the zone must be known")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def stable_hash(*parts: object) -> str:
    """A short stable key from parts (used when a record has no natural id)."""
    h = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:32]


def chunked(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items (streaming)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def worker_count(config: Config) -> int:
    """Processes for parsing: ``ingest.workers``, or 0 for one per core."""
    n = int(config.get("ingest.workers", 0) or 0)
    return n if n > 0 else (os.cpu_count() or 1)


def parallel_map(
    func: Callable[..., list[Any]], chunks: Iterator[list[Any]], args: tuple[Any, ...], workers: int,
    min_chunks: int = 4,
) -> Iterator[list[Any]]:
    """``func(chunk, *args)`` for each chunk, in order, in a process pool when it pays.

    Runs in this process when ``workers <= 1`` or the input ends within ``min_chunks``
    chunks (a pool costs more than it saves on small inputs). At most ``2 * workers``
    chunks are in flight, so memory stays flat in the input size.
    """
    head: list[list[Any]] = []
    for chunk in chunks:
        head.append(chunk)
        if len(head) >= min_chunks:
            break
    if workers <= 1 or len(head) < min_chunks:
        for chunk in head:
            yield func(chunk, *args)
        for chunk in chunks:
            yield func(chunk, *args)
        return
    # fork: workers need only the parsing code, and the CLI's __main__ is not import-safe.
    ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[list[Any]]] = deque()
        for chunk in itertools.chain(head, chunks):
            pending.append(pool.submit(func, chunk, *args))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
