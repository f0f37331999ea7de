"""Ingest raw exports into the canonical store: detect the kind, stream, upsert, count.

    summaries = ingest.run(["exports/"], store, config)

Each adapter module (one per source kind) yields ``Batch`` objects; ``write_batch``
upserts their rows on natural keys, so re-ingesting the same data changes nothing, and
records unreadable records in ``quarantine`` with their location and reason.
Adapters are listed in ``ADAPTERS`` in detection order (``worklife.ingest.registry``: each
one says what it reads).
"""

from __future__ import annotations

import csv
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa

from worklife import touched
from worklife.config import Config
from worklife.errors import IngestError, WorklifeError
from worklife.ingest import folders, people_infer
from worklife.ingest.base import CANONICAL, Batch, IngestContext
from worklife.ingest.limits import DEFAULT as DEFAULT_LIMITS
from worklife.ingest.limits import Limits
from worklife.ingest.registry import BUILTIN, Adapter, unknown_kind, unrecognised
from worklife.ingest.sanity import guard_batch
from worklife.store import TABLES, Store

log = logging.getLogger(__name__)

ADAPTERS: dict[str, Adapter] = {a.kind: a for a in BUILTIN}  # KIND -> adapter, in detection order


def register(module: object) -> Adapter:
    """Add an adapter (a module with KIND, READS, SUFFIXES, detect, read) after the built-in ones."""
    adapter = module if isinstance(module, Adapter) else Adapter.of(module)
    ADAPTERS[adapter.kind] = adapter
    return adapter


@dataclass
class IngestSummary:
    """Counts for one source: records read, rows inserted, duplicates, quarantined."""

    source: str
    kind: str
    read: int = 0
    inserted: int = 0
    duplicate: int = 0
    quarantined: int = 0
    skipped: int = 0  # records that are not activity (Slack joins and edits)
    updated: int = 0  # rows already present whose values changed (a corrected people file)
    owner: str | None = None  # whose mailbox or calendar this is (given or inferred)
    owner_how: str | None = None  # how the owner was found, in words
    error: str | None = None  # why the source (or its rest) could not be read
    notes: list[str] = field(default_factory=list)  # facts worth telling (e.g. floating times)

    @property
    def ok(self) -> int:
        """Records read and stored (new or already present)."""
        return self.read - self.quarantined - self.skipped


def _columns(table: str) -> list[str]:
    cols = TABLES[table][0]
    return [c.strip().split()[0] for c in cols.replace("\n", " ").split(",") if c.strip()]


def _arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows as an Arrow table with the store's columns (missing columns are null)."""
    cols = [c for c in _columns(table) if any(c in r for r in rows)]
    return pa.Table.from_pydict({c: [r.get(c) for r in rows] for c in cols})


COUNTED = ("meetings", "messages", "outcomes")  # tables whose rows are the records of a summary


def write_batch(store: Store, batch: Batch, source: str, summary: IngestSummary,
                limits: Limits = DEFAULT_LIMITS, config: Config | None = None) -> None:
    """Upsert one batch: authoritative rows (``_authoritative``) overwrite, others only insert.

    ``guard_batch`` runs first: no instant outside the configured range, no control
    characters, no long excerpt is ever committed, whichever adapter made the batch.
    Titles, subjects and channel names are then reduced here, the one place rows enter
    the store (``worklife.privacy.minimise``, unless ``privacy.keep_titles``).
    """
    from worklife.privacy.minimise import minimise

    guard_batch(batch, limits, source)
    summary.read += batch.read
    summary.skipped += batch.skipped
    summary.notes.extend(batch.notes)
    for table in CANONICAL:
        rows = batch.rows.get(table) or []
        if not rows:
            continue
        rows = minimise(store, config, table, rows)
        for authoritative in (False, True):
            part = [r for r in rows if bool(r.get("_authoritative")) == authoritative]
            if not part:
                continue
            if table == "people" and authoritative:
                people_infer.mark_people_file_rows(part)
            data = _arrow(table, part)
            file_rows = authoritative and table == "people"
            changed = people_infer.changed_rows(store, table, data) if file_rows else 0
            kept = people_infer.kept_zones(store, data) if file_rows else []
            ins, _ = store.upsert(table, data, update=authoritative)
            people_infer.set_zones(store, kept)
            if table == "people" and not authoritative:
                _fill_people(store, data)
                people_infer.upgrade_zones(store, data)
            if table in COUNTED or (table == "people" and authoritative):
                summary.inserted += ins
                summary.updated += changed
                summary.duplicate += len(part) - ins - changed  # already stored, or repeated in this batch
    if batch.quarantine:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        q = [
            {"source": source, "location": r.location, "reason": r.reason, "excerpt": r.excerpt,
             "first_seen_utc": now}
            for r in batch.quarantine
        ]
        store.upsert("quarantine", _arrow("quarantine", q))
        summary.quarantined += len(q)


def _fill_people(store: Store, data: pa.Table) -> None:
    """Non-authoritative people rows only fill columns that are still empty (e.g. a Slack zone)."""
    cols = [c for c in data.column_names if c not in ("person_id", "is_internal", "source")]
    if not cols:
        return
    with store.registered("_fill", data):
        sets = ", ".join(f"{c} = coalesce(people.{c}, f.{c})" for c in cols)
        cond = " OR ".join(f"(people.{c} IS NULL AND f.{c} IS NOT NULL)" for c in cols)
        store.run(
            f"UPDATE people SET {sets} FROM (SELECT person_id, "  # any_value: the first non-null
            f"{', '.join(f'any_value({c}) AS {c}' for c in cols)} FROM _fill GROUP BY person_id) f "
            f"WHERE people.person_id = f.person_id AND ({cond})")


def resolve_threads(store: Store, max_rounds: int = 10) -> None:
    """Follow e-mail reply chains: a message whose thread is another message adopts that one's thread.

    Runs in the engine; stops when nothing changes (chains longer than ``max_rounds``
    links keep the last thread reached).
    """
    for _ in range(max_rounds):
        changed = store.row(
            """UPDATE messages SET thread_id = p.thread_id FROM messages p
               WHERE messages.channel = 'email' AND p.channel = 'email'
                 AND messages.thread_id = p.message_id AND p.thread_id <> messages.thread_id
                 AND p.message_key <> messages.message_key"""
        )
        if not changed or not changed[0]:
            return


# (table, person column, natural key) of every reference to a person
_PERSON_REFS = (
    ("messages", "sender_id", None), ("meetings", "organizer_id", None), ("outcomes", "person_id", None),
    ("message_recipients", "person_id", ("message_key", "person_id", "kind")),
    ("meeting_attendees", "person_id", ("meeting_key", "person_id")),
)


def relink_people(store: Store) -> int:
    """Point rows read before a people file at the person an address turned out to belong to.

    An address stored as its own person (``user02@example.com``) that is now an alias of
    another person (``E02``) is replaced by that person everywhere, and its provisional
    people row is dropped. Returns the number of addresses relinked. Runs in the engine.
    """
    store.run("""CREATE OR REPLACE TEMP TABLE _relink AS
                   SELECT a.alias AS old, a.person_id AS new FROM person_aliases a
                   JOIN people p ON p.person_id = a.alias WHERE a.alias <> a.person_id""")
    n = store.scalar("SELECT count(*) FROM _relink")
    if n:
        touched.record_relink(store.con, "_relink")  # for incremental metrics
        for table, col, key in _PERSON_REFS:
            if key is None:
                store.run(f"UPDATE {table} SET {col} = r.new FROM _relink r WHERE {table}.{col} = r.old")
                continue
            cols = [c for c in _columns(table)]
            select = ", ".join(f"r.new AS {c}" if c == col else f"t.{c}" for c in cols)
            store.insert_missing(table, f"SELECT {select} FROM {table} t JOIN _relink r ON t.{col} = r.old")
            store.run(f"DELETE FROM {table} WHERE {col} IN (SELECT old FROM _relink)")
        store.run("DELETE FROM people WHERE person_id IN (SELECT old FROM _relink)")
        log.info("relinked %d addresses to their people", n)
    store.run("DROP TABLE _relink")
    return n


def resolve_managers(store: Store) -> None:
    """Managers given by e-mail or alias point at that person's person_id."""
    store.run(
        """UPDATE people SET manager_id = a.person_id FROM person_aliases a
           WHERE lower(people.manager_id) = a.alias AND people.manager_id <> a.person_id""")


def load_aliases(store: Store) -> dict[str, str]:
    """Every known address (people e-mails and person_aliases), lower-cased -> person_id."""
    aliases = {
        str(a).lower(): p
        for a, p in store.rows(
            "SELECT email, person_id FROM people WHERE email IS NOT NULL")
    }
    aliases.update(
        {str(a).lower(): p for a, p in store.rows(
            "SELECT alias, person_id FROM person_aliases")}
    )
    return aliases


def detect_kind(path: Path) -> str:
    """The adapter KIND for ``path``; IngestError naming the path when none fits."""
    if not path.exists():
        raise IngestError("no such file or folder", source=str(path))
    _regular(path)
    for kind, adapter in ADAPTERS.items():
        if adapter.detect(path):
            return kind
    if _broken_zip(path):
        raise IngestError("a damaged or truncated zip file (its table of contents is missing); "
                          "download or export it again", source=str(path))
    raise unrecognised(path, ADAPTERS.values())


def _regular(path: Path) -> None:
    """IngestError for a FIFO, socket or device given as a source (reading one could block forever)."""
    if not path.is_dir() and not path.is_file():
        raise IngestError("not a regular file or folder (a FIFO, socket or device); not read", source=str(path))


def _broken_zip(path: Path) -> bool:
    """A file that starts like a zip (or is named .zip) but that zipfile cannot open."""
    import zipfile

    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError:
        return False
    return (magic == b"PK\x03\x04" or path.suffix.lower() == ".zip") and not zipfile.is_zipfile(path)


def run(
    sources: Iterable[str | Path],
    store: Store,
    config: Config,
    kind: str = "auto",
    owner: str | None = None,
    window: tuple[date, date] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    people: str | Path | None = None,
    notes: list[str] | None = None,
) -> list[IngestSummary]:
    """Ingest every source; return one summary per source (``ingest_log`` gets the same).

    ``people`` (an HR/people CSV or JSON) is read first, so that the addresses in the
    other sources resolve to its people. A source that cannot be read at all gets a
    summary with ``error`` set and the other sources are still read; when no source
    could be read at all, IngestError says why (``ingest_log`` has a row for each).
    A folder of mixed exports is split into its parts (``folders.plan``). ``notes``, when
    given, receives the run's facts about people: who is measured, defaults in use.
    """
    if kind != "auto" and kind not in ADAPTERS:
        raise unknown_kind(kind, ADAPTERS.values())
    run_id = uuid.uuid4().hex[:12]
    todo: list[tuple[Path, str]] = []
    if people is not None:
        todo.append((Path(people), "csv"))
    skipped: dict[int, IngestSummary] = {}
    for src in sources:
        parts = folders.plan(Path(src), _quiet_kind) if kind == "auto" else None
        for part in parts if parts is not None else [folders.Part(Path(src), kind)]:
            if part.kind is None:  # an entry of a mixed folder that no adapter reads
                skipped[len(todo)] = IngestSummary(source=str(part.path), kind="skipped", notes=[part.reason])
            todo.append((part.path, part.kind or "skipped"))
    # people files first, calendars last: their recurrences are expanded over the span of
    # the other data; summaries keep the order the sources were given in
    order = sorted((i for i in range(len(todo)) if i not in skipped), key=lambda i: folders.order_key(
        todo[i][1] if todo[i][1] != "auto" else _quiet_kind(todo[i][0])))
    done = {i: _ingest_one(store, config, *todo[i], owner, window, on_progress, run_id) for i in order}
    done.update(skipped)
    for s in done.values():
        note = folders.unread_note(Path(s.source), s.kind) if not s.error else None
        if note:
            s.notes.append(note)
    summaries = [done[i] for i in range(len(todo))]
    if summaries and all(s.error and s.read == 0 for s in summaries if s.kind != "skipped"):
        errors = [str(s.error) for s in summaries if s.error] or ["no export found in the sources given"]
        raise IngestError(errors[0] if len(errors) == 1 else "no source could be read: " + "; ".join(errors))
    relink_people(store)
    resolve_threads(store)
    resolve_managers(store)
    run_notes = people_infer.finish(store, config, [s.source for s in summaries])
    if notes is not None:
        notes.extend(run_notes)
        notes.extend(people_infer.describe(store, config))
    from worklife.timezones import refresh_tz_offsets

    refresh_tz_offsets(store, default_tz=config["defaults.tz"])
    return summaries


_CALENDAR_KINDS = ("ics", "graph")


def _settle_owner(store: Store, path: Path, kind: str, ctx: IngestContext, summary: IngestSummary) -> None:
    """Whose export this is (``owners.prepare``), told in the summary."""
    from worklife.ingest import owners

    guess = owners.prepare(store, path, kind, ctx)
    if guess is not None:
        summary.owner, summary.owner_how = guess.address, guess.how
    elif kind in ("maildir", "mbox"):
        summary.owner_how = ("not inferred (no address receives most inbox mail, no sender dominates "
                             "the sent folders); pass --owner EMAIL if this is one person's mailbox")


def _quiet_kind(path: Path) -> str | None:
    try:
        return detect_kind(path)
    except WorklifeError:
        return None


def _data_span(store: Store) -> tuple[date, date] | None:
    """UTC dates of the messages and outcomes stored so far (what a calendar is expanded against)."""
    span = store.row(
        "SELECT min(t0), max(t1) FROM (SELECT min(sent_utc) t0, max(sent_utc) t1 FROM messages "
        "UNION ALL SELECT min(at_utc), max(at_utc) FROM outcomes)")
    return (span[0].date(), span[1].date()) if span and span[0] is not None else None


def _ingest_one(store: Store, config: Config, path: Path, kind: str, owner: str | None,
                window: tuple[date, date] | None, on_progress: Callable[[str, int], None] | None,
                run_id: str) -> IngestSummary:
    summary = IngestSummary(source=str(path), kind=kind)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        k = detect_kind(path) if kind == "auto" else kind
        summary.kind = k
        if k not in ADAPTERS:
            raise unknown_kind(k, ADAPTERS.values(), source=str(path))
        if not path.exists():
            raise IngestError("no such file or folder", source=str(path))
        _regular(path)
        adapter = ADAPTERS[k]
        ctx = IngestContext(config=config, owner=owner, window=window, aliases=load_aliases(store),
                            data_span=_data_span(store))
        _settle_owner(store, path, k, ctx, summary)
        ctx.people_tz = dict(store.rows(
            "SELECT person_id, tz FROM people WHERE tz IS NOT NULL"))
        limits = Limits.from_config(config)
        # Each batch is written as it comes: what was read before a fatal error is kept.
        for batch in adapter.read(path, ctx):
            write_batch(store, batch, str(path), summary, limits, config)
            if k == "csv":  # a people file changes who is who for the next rows
                ctx.aliases = load_aliases(store)
            if on_progress:
                on_progress(str(path), batch.read)
    except WorklifeError as exc:
        summary.error = str(exc)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # the adapter met something it did not expect; the source is skipped, not the run
        log.debug("reading %s failed", path, exc_info=True)
        summary.error = f"{path}: cannot read: {exc}"
    except (OverflowError, RecursionError, TypeError, KeyError, AttributeError, csv.Error) as exc:
        # a record the adapter should have quarantined: the rest of this source is lost, not the run
        log.debug("reading %s failed", path, exc_info=True)
        summary.error = (f"{path}: reading stopped at an unexpected record ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); what was read before it is kept")
    if summary.error:
        log.info("%s", summary.error)  # reported by the caller (the CLI prints it once)
    finished = datetime.now(timezone.utc).replace(tzinfo=None)
    store.upsert("ingest_log", [{
        "run_id": run_id, "source": str(path), "kind": summary.kind, "read": summary.read,
        "inserted": summary.inserted, "duplicate": summary.duplicate,
        "quarantined": summary.quarantined, "started_utc": started, "finished_utc": finished,
    }])
    log.info("ingested %s (%s): %s", path, summary.kind, summary)
    return summary
