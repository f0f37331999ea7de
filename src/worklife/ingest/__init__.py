"""Ingest raw exports into the canonical store: detect the kind, stream, upsert, count.

    summaries = ingest.run(["exports/"], store, config)

Each adapter module (one per source kind) yields ``Batch`` objects; ``write_batch``
upserts their rows on natural keys, so re-ingesting the same data changes nothing, and
records unreadable records in ``quarantine`` with their location and reason.
Adapters are registered in ``ADAPTERS`` in detection order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa

from worklife.config import Config
from worklife.errors import IngestError
from worklife.ingest.base import CANONICAL, Batch, IngestContext
from worklife.store import TABLES, Store

log = logging.getLogger(__name__)

ADAPTERS: dict[str, object] = {}  # KIND -> adapter module, filled by register()


def register(module: object) -> object:
    """Add an adapter module (with KIND, detect, read) to the registry."""
    ADAPTERS[getattr(module, "KIND")] = module
    return module


@dataclass
class IngestSummary:
    """Counts for one source: records read, rows inserted, duplicates, quarantined."""

    source: str
    kind: str
    read: int = 0
    inserted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)


def _columns(table: str) -> list[str]:
    cols = TABLES[table][0]
    return [c.strip().split()[0] for c in cols.replace("\n", " ").split(",") if c.strip()]


def _arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table with the store's columns (missing columns are null)."""
    cols = [c for c in _columns(table) if any(c in r for r in rows)]
    return pa.Table.from_pydict({c: [r.get(c) for r in rows] for c in cols})


def write_batch(store: Store, batch: Batch, source: str, summary: IngestSummary) -> None:
    """Upsert one batch: authoritative rows (``_authoritative``) overwrite, others only insert."""
    summary.read += batch.read
    summary.notes.extend(batch.notes)
    for table in CANONICAL:
        rows = batch.rows.get(table) or []
        if not rows:
            continue
        for authoritative in (False, True):
            part = [r for r in rows if bool(r.get("_authoritative")) == authoritative]
            if not part:
                continue
            ins, dup = store.upsert(table, _arrow(table, part), update=authoritative)
            if table not in ("person_aliases", "people", "meeting_attendees", "message_recipients"):
                summary.inserted += ins
                summary.duplicate += dup
    if batch.quarantine:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        q = [
            {"source": source, "location": r.location, "reason": r.reason, "excerpt": r.excerpt,
             "first_seen_utc": now}
            for r in batch.quarantine
        ]
        store.upsert("quarantine", _arrow("quarantine", q))
        summary.quarantined += len(q)


def load_aliases(store: Store) -> dict[str, str]:
    """Every known address (people e-mails and person_aliases), lower-cased -> person_id."""
    aliases = {
        str(a).lower(): p
        for a, p in store.con.execute(
            "SELECT email, person_id FROM people WHERE email IS NOT NULL").fetchall()
    }
    aliases.update(
        {str(a).lower(): p for a, p in store.con.execute(
            "SELECT alias, person_id FROM person_aliases").fetchall()}
    )
    return aliases


def detect_kind(path: Path) -> str:
    """The adapter KIND for ``path``; IngestError naming the path when none fits."""
    if not path.exists():
        raise IngestError("no such file or folder", source=str(path))
    for kind, module in ADAPTERS.items():
        if module.detect(path):  # type: ignore[attr-defined]
            return kind
    raise IngestError(
        f"cannot tell what kind of export this is; pass --kind ({'|'.join(ADAPTERS) or 'none registered'})",
        source=str(path),
    )


def run(
    sources: Iterable[str | Path],
    store: Store,
    config: Config,
    kind: str = "auto",
    owner: str | None = None,
    window: tuple[date, date] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[IngestSummary]:
    """Ingest every source; return one summary per source (``ingest_log`` gets the same)."""
    from worklife.timezones import refresh_tz_offsets

    run_id = uuid.uuid4().hex[:12]
    span = store.con.execute(  # the other data a calendar is expanded against (not meetings)
        "SELECT min(t0), max(t1) FROM (SELECT min(sent_utc) t0, max(sent_utc) t1 FROM messages "
        "UNION ALL SELECT min(at_utc), max(at_utc) FROM outcomes)").fetchone()
    data_span = (span[0].date(), span[1].date()) if span and span[0] is not None else None
    summaries: list[IngestSummary] = []
    for src in sources:
        path = Path(src)
        k = detect_kind(path) if kind == "auto" else kind
        if k not in ADAPTERS:
            raise IngestError(f"unknown kind {k!r}; expected one of {', '.join(ADAPTERS)}", source=str(path))
        module = ADAPTERS[k]
        ctx = IngestContext(config=config, owner=owner, window=window, aliases=load_aliases(store),
                            data_span=data_span)
        ctx.people_tz = dict(store.con.execute(
            "SELECT person_id, tz FROM people WHERE tz IS NOT NULL").fetchall())
        summary = IngestSummary(source=str(path), kind=k)
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        for batch in module.read(path, ctx):  # type: ignore[attr-defined]
            write_batch(store, batch, str(path), summary)
            if k == "csv":  # a people file changes who is who for the next sources
                ctx.aliases = load_aliases(store)
            if on_progress:
                on_progress(str(path), batch.read)
        finished = datetime.now(timezone.utc).replace(tzinfo=None)
        store.upsert("ingest_log", [{
            "run_id": run_id, "source": str(path), "kind": k, "read": summary.read,
            "inserted": summary.inserted, "duplicate": summary.duplicate,
            "quarantined": summary.quarantined, "started_utc": started, "finished_utc": finished,
        }])
        summaries.append(summary)
        log.info("ingested %s (%s): %s", path, k, summary)
    refresh_tz_offsets(store, default_tz=config["defaults.tz"])
    return summaries


# Built-in adapters, in detection order (most specific first). A module that does not
# exist yet is skipped; any other import error surfaces.
BUILTIN_ADAPTERS = (
    "github", "jira", "graph", "slack", "ics", "maildir", "mbox", "eml", "git", "outcomes_csv", "csvfiles",
)


def _register_builtin() -> None:
    import importlib

    for name in BUILTIN_ADAPTERS:
        full = f"worklife.ingest.{name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name == full:
                continue
            raise
        register(module)


_register_builtin()
