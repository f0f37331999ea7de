"""Generic outcomes CSV and aliases CSV, plus what the outcome adapters share.

Two CSV layouts are recognised by their header (column order free, names
case-insensitive); any other CSV is left to the generic ``csvfiles`` adapter:

- **outcomes**: ``person`` (or ``email``), ``at``, ``kind``, ``ref``, ``title``, ``state``;
  optional ``url``, ``project``. ``at`` is ISO 8601 with an offset (``Z`` allowed);
  ``kind`` is e.g. ``commit``, ``pr_merged``, ``task_closed``; ``state`` is ``open``,
  ``closed``, ``merged``, ``blocked`` or empty.
- **aliases**: ``alias``, ``person_id`` (or ``email``), optional ``kind`` (``github``,
  ``jira``, ``slack`` …). Maps a GitHub login, Jira accountId or Jira display name to a
  person: the stored alias is ``kind:alias`` lower-cased (``github:user07``).

Natural key of an outcome: ``kind:ref:actor`` where ``actor`` is the source's own
identity for the person (the CSV's person cell, a GitHub login, a Jira accountId), so
re-ingesting the same file changes nothing and a later alias fixes ``person_id`` in
place. Outcome rows are authoritative: a newer export updates ``state``.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext, to_utc

log = logging.getLogger(__name__)

KIND = "outcomes_csv"
SUFFIXES = (".csv",)
READS = "outcomes or aliases .csv"  # in words, for error messages

OUTCOME_COLUMNS = ("at", "kind", "ref", "title", "state")
PERSON_COLUMNS = ("person", "email")
ALIAS_COLUMNS = ("alias",)
ALIAS_TARGET = ("person_id", "email")
STATES = ("open", "closed", "merged", "blocked", "")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# -- shared by the outcome adapters (github, jira, this one) ------------------------------
def parse_instant(text: str | None) -> datetime | None:
    """ISO 8601 with an offset -> aware UTC datetime; None for empty; ValueError if naive."""
    if text is None or str(text).strip() == "":
        return None
    s = str(text).strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # Jira writes "+0100"; fromisoformat in 3.11 accepts it, but not ".000+0100" everywhere.
    m = re.match(r"^(.*[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)([+-]\d\d)(\d\d)$", s)
    if m:
        s = f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    value = datetime.fromisoformat(s)
    if value.tzinfo is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return value.astimezone(UTC)


def resolve_actor(ctx: IngestContext, *candidates: tuple[str, str | None]) -> str | None:
    """The person_id for the first known candidate identity, else a stable fallback id.

    Candidates are ``(kind, value)`` pairs such as ``("email", "a@b")`` or
    ``("github", "user07")``. A value is known when ``ctx.aliases`` holds the e-mail, or
    ``kind:value`` (how the aliases CSV stores it), or the bare value. Unknown people
    keep ``email`` lower-cased, else ``kind:value`` lower-cased, so that an alias
    ingested later still resolves them (the digest joins ``person_aliases`` again).
    """
    fallback: str | None = None
    for kind, value in candidates:
        if value is None or str(value).strip() == "":
            continue
        v = str(value).strip().lower()
        keys = [v] if kind == "email" else [f"{kind}:{v}", v]
        for k in keys:
            if k in ctx.aliases:
                return ctx.aliases[k]
        if fallback is None:
            fallback = v if kind == "email" else f"{kind}:{v}"
    return fallback


def outcome_row(
    *, kind: str, ref: str, actor: str, person_id: str | None, at: datetime, title: str | None,
    state: str | None, url: str | None, project: str | None, source: str, source_ref: str,
) -> dict[str, Any]:
    """One canonical ``outcomes`` row (authoritative: re-ingest updates it in place)."""
    return {
        "outcome_key": f"{kind}:{ref}:{actor}".lower(),
        "person_id": person_id,
        "at_utc": to_utc(at),
        "kind": kind,
        "ref": ref,
        "title": title,
        "project": project,
        "state": state or None,
        "url": url or None,
        "source": source,
        "source_ref": source_ref,
        "_authoritative": True,
    }


def is_blocked(texts: Iterable[str | None], patterns: Iterable[str]) -> bool:
    """True when any text (status name, label) matches any blocked pattern (case-insensitive)."""
    regs = [re.compile(p, re.IGNORECASE) for p in patterns]
    return any(t and r.search(t) for t in texts for r in regs)


class TooDeepItem:
    """Stands for an array element nested too deeply to decode (quarantined by the reader)."""

    reason = "an item nested too deeply to read (hundreds of levels); skipped"


def iter_json_items(path: Path, keys: tuple[str, ...] = (), chunk_chars: int = 1 << 20) -> Iterator[Any]:
    """Stream the elements of a JSON array without loading the file whole.

    The array is the document itself, or the value of the first of ``keys`` found in
    a top-level object (``{"issues": [...]}``, ``{"items": [...]}``). Other top-level
    values are decoded and skipped. Raises IngestError for malformed JSON.
    """
    dec = json.JSONDecoder()
    f = path.open("r", encoding="utf-8-sig")
    buf, pos, eof = "", 0, False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        more = f.read(chunk_chars)
        if not more:
            eof = True
            return False
        buf, pos = buf[pos:] + more, 0
        return True

    def skip_ws() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return ""

    def skip_deep() -> None:
        """Move past the value at ``pos`` by counting brackets (it is too deep to decode)."""
        nonlocal pos
        i, depth, in_str, esc = pos, 0, False, False
        while True:
            while i < len(buf):
                ch = buf[i]
                i += 1
                if in_str:
                    esc, in_str = (False, True) if esc else (ch == "\\", ch != '"')
                elif ch == '"':
                    in_str = True
                elif ch in "[{":
                    depth += 1
                elif ch in "]}":
                    depth -= 1
                    if depth <= 0:
                        pos = i
                        return
            offset = i - pos
            if not fill():
                raise IngestError("malformed JSON: the file ends inside a deeply nested value", source=str(path))
            i = offset

    def decode() -> Any:
        nonlocal pos
        skip_ws()
        while True:
            try:
                value, end = dec.raw_decode(buf, pos)
            except RecursionError:
                skip_deep()
                return TooDeepItem()
            except ValueError as exc:
                if fill():
                    continue
                raise IngestError(f"malformed JSON: {exc}", source=str(path)) from None
            # A number at the end of the buffer may be cut short: read on to be sure.
            if end >= len(buf) and not eof and fill():
                continue
            pos = end
            return value

    def expect(ch: str) -> None:
        nonlocal pos
        if skip_ws() != ch:
            raise IngestError(f"malformed JSON: expected {ch!r} at offset {pos}", source=str(path))
        pos += 1

    try:
        fill()
        first = skip_ws()
        if first == "{":
            pos += 1
            while True:
                c = skip_ws()
                if c == "}" or c == "":
                    return  # no array under any of the keys
                if c == ",":
                    pos += 1
                    continue
                key = decode()
                expect(":")
                if key in keys and skip_ws() == "[":
                    break
                decode()
        elif first != "[":
            raise IngestError("not a JSON array or object", source=str(path))
        expect("[")
        while True:
            c = skip_ws()
            if c == "]":
                return
            if c == ",":
                pos += 1
                continue
            if c == "":
                raise IngestError("malformed JSON: unexpected end of file", source=str(path))
            yield decode()
    finally:
        f.close()


def sniff(path: Path, needles: Iterable[str], size: int = 65536) -> str:
    """The first ``size`` characters of a file if it contains every needle, else ''."""
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as f:
            head = f.read(size)
    except OSError:
        return ""
    return head if all(n in head for n in needles) else ""


# -- this adapter -------------------------------------------------------------------------
def _header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            row = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    return [c.strip().lower() for c in row]


def layout(path: Path) -> str | None:
    """'outcomes', 'aliases' or None, from the CSV header."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    cols = set(_header(path))
    if set(OUTCOME_COLUMNS) <= cols and cols & set(PERSON_COLUMNS):
        return "outcomes"
    if set(ALIAS_COLUMNS) <= cols and cols & set(ALIAS_TARGET) and "at" not in cols:
        return "aliases"
    return None


def detect(path: Path) -> bool:
    """Only CSVs with the outcomes or aliases header documented above."""
    return layout(path) is not None


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Stream outcome (or alias) rows; bad rows are quarantined as ``file:line``."""
    kind = layout(path)
    if kind is None:
        raise IngestError(
            "not an outcomes CSV (needs person or email, at, kind, ref, title, state) "
            "nor an aliases CSV (needs alias and person_id or email)", source=str(path))
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        reader.fieldnames = [c.strip().lower() for c in reader.fieldnames or []]
        batch = Batch()
        for row in reader:
            line = reader.line_num
            batch.read += 1
            where = f"{path}:{line}"
            try:
                if kind == "outcomes":
                    batch.add("outcomes", _outcome(row, ctx, path, line))
                else:
                    batch.add("person_aliases", _alias(row, ctx, path))
            except ValueError as exc:
                batch.reject(where, str(exc), ",".join(str(v) for v in row.values() if v))
            if len(batch) >= ctx.batch_size:
                yield batch
                batch = Batch()
        if batch.read:
            yield batch


def _cell(row: dict, name: str) -> str:
    v = row.get(name)
    return "" if v is None else str(v).strip()


def _outcome(row: dict, ctx: IngestContext, path: Path, line: int) -> dict[str, Any]:
    actor = _cell(row, "person") or _cell(row, "email")
    if not actor:
        raise ValueError("no person or email")
    kind = _cell(row, "kind").lower()
    if not _KIND_RE.match(kind):
        raise ValueError(f"invalid kind {kind!r} (lower-case word such as pr_merged)")
    ref = _cell(row, "ref")
    if not ref:
        raise ValueError("empty ref")
    at = parse_instant(_cell(row, "at"))
    if at is None:
        raise ValueError("empty at")
    state = _cell(row, "state").lower()
    if state not in STATES:
        raise ValueError(f"invalid state {state!r}; expected one of {', '.join(s for s in STATES if s)}")
    person = ctx.person_id(actor)  # an alias or e-mail if known, else the cell as a person_id
    return outcome_row(
        kind=kind, ref=ref, actor=actor, person_id=person, at=at, title=_cell(row, "title") or None,
        state=state, url=_cell(row, "url"), project=_cell(row, "project") or None,
        source="outcomes_csv", source_ref=f"{path.name}:{line}",
    )


def _alias(row: dict, ctx: IngestContext, path: Path) -> dict[str, Any]:
    alias = _cell(row, "alias")
    target = _cell(row, "person_id") or _cell(row, "email")
    if not alias or not target:
        raise ValueError("alias and person_id (or email) are required")
    kind = _cell(row, "kind").lower()
    key = f"{kind}:{alias}".lower() if kind else alias.lower()
    return {"alias": key, "person_id": ctx.person_id(target), "kind": kind or None,
            "source": path.name, "_authoritative": True}
