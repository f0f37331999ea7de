"""iCalendar adapter: ``.ics`` files or folders of them (Google, Outlook, Apple, Fastmail).

    for batch in ics.read(Path("calendars/"), ctx): ...

Each file is cut into parse units (``_ics_split``), parsed with icalendar, put into
standard form with x-wr-timezone, and expanded with recurring-ical-events
(``_ics_events``). Units run in a process pool when the input is large
(``calendar.pool_min_bytes``), in the ingesting process otherwise; results come back in
input order, so a run is deterministic. See docs/ingest-calendar.md for every rule:
whose calendar a file is, the expansion window, zones, responses.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from worklife.ingest._ics_events import process
from worklife.ingest._ics_rows import ATTENDEE_COLS, MEETING_COLS, Job, Result
from worklife.ingest._ics_split import SplitFile, split
from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.limits import Limits, Walk, walk
from worklife.timezones import resolve_zone

log = logging.getLogger(__name__)

KIND = "ics"
SUFFIXES = (".ics", ".ical", ".icalendar")
READS = "iCalendar .ics files or a folder of them"  # in words, for error messages


IGNORED = (".md", ".txt", ".json", ".csv")  # readme and index files next to calendar exports


def detect(path: Path) -> bool:
    """An .ics file, a file starting with BEGIN:VCALENDAR, or a folder of calendars: .ics
    files and nothing another adapter should read (a mixed folder is not claimed)."""
    if path.is_dir():
        found = False
        for n, p in enumerate(path.rglob("*")):
            if n > 10_000:
                break
            if not p.is_file() or p.name.startswith("."):
                continue
            suffix = p.suffix.lower()
            if suffix in SUFFIXES:
                found = True
            elif suffix not in IGNORED:
                return False
        return found
    if path.suffix.lower() in SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \r\n\t")
    except OSError:
        return False
    return head[:15].upper() == b"BEGIN:VCALENDAR"


def calendar_files(path: Path, skipped: Walk | None = None) -> Iterator[Path]:
    """The calendar files of a source; a folder is walked without leaving it (``limits.walk``)."""
    if path.is_file():
        yield path
        return
    for p in walk(path, skipped):
        if p.suffix.lower() in SUFFIXES:
            yield p


def owner_of(path: Path, parts: SplitFile, ctx: IngestContext) -> tuple[str | None, str]:
    """(person_id, how) of whose calendar this is: --owner, the file name, X-WR-CALNAME."""
    if ctx.owner:
        return ctx.person_id(ctx.owner), ctx.owner_how or "--owner"
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    stem = stem.strip().lower()
    if stem in ctx.aliases:
        return ctx.aliases[stem], "file name"
    by_local = _local_parts(ctx)
    if len(by_local.get(stem, ())) == 1:
        return next(iter(by_local[stem])), "file name"
    calname = parts.header_value("X-WR-CALNAME")
    if calname and "@" in calname and " " not in calname.strip():
        return ctx.person_id(calname), "X-WR-CALNAME"
    return None, "unknown"


_LOCAL_PARTS: dict[int, dict[str, set[str]]] = {}


def _local_parts(ctx: IngestContext) -> dict[str, set[str]]:
    """Local part of every known address -> person_ids (built once per alias map)."""
    key = id(ctx.aliases)
    if key not in _LOCAL_PARTS:
        _LOCAL_PARTS.clear()
        by_local: dict[str, set[str]] = {}
        for address, pid in ctx.aliases.items():
            if "@" in address:
                by_local.setdefault(address.split("@", 1)[0], set()).add(pid)
        _LOCAL_PARTS[key] = by_local
    return _LOCAL_PARTS[key]


def _yyyymmdd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def window_for(ctx: IngestContext, parts: SplitFile) -> tuple[datetime, datetime, str]:
    """Expansion window as naive local datetimes [start, stop) and where it came from.

    ``ctx.window`` (--from/--to, both days included) if given; else the span of the
    messages and outcomes already in the store (``ctx.data_span``); else from
    ``calendar.default_window_days`` before the file's first DTSTART to as many days
    after its last.
    """
    if ctx.window is not None:
        lo, hi, how = ctx.window[0], ctx.window[1], "--from/--to"
    elif getattr(ctx, "data_span", None):
        lo, hi = ctx.data_span  # type: ignore[misc]
        lo, hi, how = _day(lo), _day(hi), "span of the other data in the store"
    else:
        limits = Limits.from_config(ctx.config)
        days = sorted(limits.clamp_day(d) for d in (_yyyymmdd(b.start_day) for b in parts.events if b.start_day)
                      if d)
        pad = timedelta(days=int(ctx.config.get("calendar.default_window_days", 365)))
        first, last = (days[0], days[-1]) if days else (date(2000, 1, 1), date(2000, 1, 1))
        lo, hi, how = first - pad, last + pad, f"±{pad.days} days around the file's events"
    limits = Limits.from_config(ctx.config)  # a DTSTART in year 1 or 9999 must not overflow the window
    lo, hi = limits.clamp_day(lo), limits.clamp_day(hi)
    start = datetime(lo.year, lo.month, lo.day)
    stop = datetime(hi.year, hi.month, hi.day) + timedelta(days=1)
    return start, stop, how


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def jobs_for(path: Path, data: bytes, ctx: IngestContext, chunk: int) -> tuple[list[Job], SplitFile, list[str]]:
    """Parse units of one file, the split file and the notes about the file as a whole."""
    parts = split(data)
    owner, how = owner_of(path, parts, ctx)
    owner_tz = ((ctx.people_tz.get(owner) if owner else None) or resolve_zone(parts.header_value("X-WR-TIMEZONE"))
                or ctx.config["defaults.tz"])
    owner_tz = resolve_zone(owner_tz) or "UTC"
    start, stop, window_how = window_for(ctx, parts)
    notes = list(parts.notes)
    if parts.events:
        notes.append(f"owner {owner or 'unknown (no --owner; neither the file name nor X-WR-CALNAME matched)'}"
                     f"{'' if owner is None else f' (from {how})'}; zone for floating and all-day times "
                     f"{owner_tz}; recurrences expanded {start.date()} to "
                     f"{(stop - timedelta(days=1)).date()} ({window_how})")
    for name, n in sorted(parts.skipped.items()):
        notes.append(f"{n} {name} component(s) skipped (only VEVENTs are meetings)")
    prefix = parts.prefix()
    cap = int(ctx.config.get("calendar.max_occurrences_per_series", 10000))
    jobs = []
    for blocks in parts.chunks(chunk):
        lone = [b for b in blocks if b.alone and not b.recurs and not b.override]
        rest = [b for b in blocks if not (b.alone and not b.recurs and not b.override)]
        jobs.append(Job(
            source=str(path), prefix=prefix, events=tuple(b.text() for b in rest),
            lines=tuple(b.line for b in rest), side=tuple(tuple(b.side) for b in rest),
            singles=tuple((b.line, b.uid, tuple(b.lines), tuple(b.side)) for b in lone),
            owner=owner, owner_tz=owner_tz, window=(start, stop), max_occurrences=cap))
    return jobs, parts, notes


# -- pool --------------------------------------------------------------------------------
_WORKER_CTX: IngestContext | None = None


def _init_worker(ctx: IngestContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


def _run_job(job: Job) -> Result:
    assert _WORKER_CTX is not None
    return process(job, _WORKER_CTX)


def _run_file(path: str) -> list[Batch | Result]:
    """A whole (small) file in a worker: split, parse and expand there."""
    assert _WORKER_CTX is not None
    head, jobs = _file_units(Path(path), _WORKER_CTX)
    return [head, *(process(job, _WORKER_CTX) for job in jobs)]


def _workers(ctx: IngestContext, total_bytes: int) -> int:
    wanted = (int(ctx.config.get("calendar.workers", 0) or 0) or int(ctx.config.get("ingest.workers", 0) or 0)
              or (os.cpu_count() or 1))
    if wanted <= 1 or total_bytes < int(ctx.config.get("calendar.pool_min_bytes", 2_000_000)):
        return 1
    return wanted


def _pool(n: int, ctx: IngestContext) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    mp = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=n, mp_context=mp, initializer=_init_worker, initargs=(ctx,))


# -- read --------------------------------------------------------------------------------
WHOLE_FILE_MAX = 1_000_000  # bytes: with a pool, smaller files go to a worker whole


def _file_units(path: Path, ctx: IngestContext) -> tuple[Batch, list[Job]]:
    """A Batch of the file's own problems and notes, and its parse units."""
    limit = Limits.from_config(ctx.config).max_member_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            head = Batch(read=1)
            head.reject(f"{path}:1", f"file of {size:,} bytes, over ingest.max_member_bytes ({limit:,}); not read")
            return head, []
        data = path.read_bytes()
    except OSError as exc:
        head = Batch(read=1)
        head.reject(f"{path}:1", f"cannot read file: {exc.strerror or exc}")
        return head, []
    jobs, parts, notes = jobs_for(path, data, ctx, int(ctx.config.get("calendar.chunk_events", 400)))
    head = Batch(read=len(parts.problems))
    for line, reason, excerpt in parts.problems:
        head.reject(f"{path}:{line}", reason, excerpt)
    head.notes.extend(f"{path}: {n}" for n in notes)
    return head, jobs


Pending = tuple[Path, "Future | Job | Batch", "Job | None"]


def _results(files: list[Path], ctx: IngestContext, workers: int) -> Iterator[tuple[Path, Result | Batch]]:
    """Per file: a Batch of file-level problems and notes, then each unit's Result, in order.

    With a pool, small files are handed to workers whole (split included); a large file
    is split here and its units are spread over the workers.
    """
    pool = _pool(workers, ctx) if workers > 1 else None
    pending: deque[Pending] = deque()
    try:
        for path in files:
            if pool is not None and path.stat().st_size <= WHOLE_FILE_MAX:
                pending.append((path, pool.submit(_run_file, str(path)), None))
            else:
                head, jobs = _file_units(path, ctx)
                pending.append((path, head, None))
                for job in jobs:
                    pending.append((path, pool.submit(_run_job, job) if pool else job, job))
                    while pool and len(pending) > 4 * workers:
                        yield from _done(pending.popleft(), ctx)
            while pending and (pool is None or len(pending) > 4 * workers):
                yield from _done(pending.popleft(), ctx)
        while pending:
            yield from _done(pending.popleft(), ctx)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _done(item: Pending, ctx: IngestContext) -> Iterator[tuple[Path, Result | Batch]]:
    """The finished unit(s); a unit that failed for an unforeseen reason (a bug, a killed
    worker) is quarantined, event by event where known, instead of ending the run."""
    path, value, job = item
    try:
        if isinstance(value, Future):
            out = value.result()
            for unit in out if isinstance(out, list) else [out]:
                yield path, unit
            return
        yield path, process(value, ctx) if isinstance(value, Job) else value  # type: ignore[misc]
    except Exception as exc:  # noqa: BLE001
        log.warning("a calendar unit of %s failed: %s: %s", path, type(exc).__name__, exc)
        log.debug("calendar unit of %s failed", path, exc_info=True)
        reason = f"internal error while reading this part of the file: {type(exc).__name__}: {exc}"
        b = Batch(read=len(job.events) if job else 1)
        if job is None:
            b.reject(f"{path}:1", reason)
        for line, text in zip(job.lines, job.events) if job else ():
            b.reject(f"{path}:{line}", reason, text)
        yield path, b


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Batches of meetings, attendees and quarantine records for every .ics file under ``path``.

    Units are gathered into batches of about ``ctx.batch_size`` meetings (fewer, larger
    writes); memory holds one batch and the units in flight, never a whole folder.
    """
    skipped = Walk()
    files = list(calendar_files(path, skipped))
    workers = _workers(ctx, sum(f.stat().st_size for f in files if f.exists()))
    if workers > 1:
        log.info("calendar ingest: %d files, %d worker processes", len(files), workers)
    size = max(1, ctx.batch_size)
    out = Batch()
    notes: Counter[str] = Counter()
    current: Path | None = None
    for file, item in _results(files, ctx, workers):
        if file != current and notes:
            _add_notes(out, current, notes)
            notes = Counter()
        current = file
        if isinstance(item, Batch):
            out.read += item.read
            out.quarantine.extend(item.quarantine)
            out.notes.extend(item.notes)
        else:
            notes.update(item.notes)
            _add_result(out, item)
        if len(out.rows["meetings"]) >= size:
            yield out
            out = Batch()
    if notes:
        _add_notes(out, current, notes)
    out.notes.extend(skipped.notes(path))
    if len(out) or out.read or out.notes:
        yield out


def _add_notes(out: Batch, path: Path | None, notes: Counter[str]) -> None:
    for text, n in sorted(notes.items()):
        out.notes.append(f"{path}: {text} ({n}x)")
        log.info("%s: %s (%dx)", path, text, n)


def _add_result(out: Batch, res: Result) -> None:
    """A unit's rows as dicts of the store's columns (plus ``_authoritative``)."""
    out.read += res.read
    out.rows["meetings"].extend(dict(zip(MEETING_COLS, m)) for m in res.meetings)
    out.rows["meeting_attendees"].extend(dict(zip(ATTENDEE_COLS, a)) for a in res.attendees)
    for where, reason, excerpt in res.quarantine:
        out.reject(where, reason, excerpt)
