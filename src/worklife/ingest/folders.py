"""Folders of mixed exports: split a folder into the exports it holds, account for the rest.

    parts = plan(Path("exports/"), detect)   # None: the folder is one export (a Maildir, a Slack export)

A folder is *mixed* when its entries are exports of two or more families (mail — Maildir,
mbox, .eml —, calendars, Slack, git, CSV, …), as ``worklife synth`` writes them:
``calendars/``, ``mail/``, ``slack/``, ``git/``, ``people.csv``. Each entry is then one
part: an export of its detected kind, a mixed sub-folder split the same way, or skipped
with the reason. A folder whose entries are all of one family (a Maildir's folders, a
folder of .ics files) is one export, read whole by its adapter.

People files come first (they say who is who), calendars last (their recurrences are
expanded over the span of the other data): ``ingest.run`` orders the parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worklife.ingest.git import is_bare_repository

FAMILY = {"maildir": "mail", "eml": "mail", "mbox": "mail", "outcomes_csv": "csv"}
SINGLE_EXPORT_MARKERS = ("users.json", ".git", "cur", "new")  # a folder with one of these is one export
MAX_DEPTH = 4


@dataclass(frozen=True)
class Part:
    """One entry of a mixed folder: its kind, or None and why it is skipped."""

    path: Path
    kind: str | None
    reason: str = ""


def _family(kind: str) -> str:
    return FAMILY.get(kind, kind)


def plan(path: Path, detect: Callable[[Path], str | None], depth: int = 0) -> list[Part] | None:
    """The parts of a mixed folder, or None when ``path`` is one export (or not a folder).

    ``detect`` gives an entry's adapter kind, or None when no adapter reads it. A folder
    that is no export itself but holds exports (``slack/`` around one Slack export) is
    split too, so the export one level down is read.
    """
    if not path.is_dir() or depth > MAX_DEPTH or is_bare_repository(path):
        return None
    if any((path / m).exists() for m in SINGLE_EXPORT_MARKERS):
        return None
    entries = sorted(e for e in path.iterdir() if not e.name.startswith("."))
    kinds = {e: detect(e) for e in entries}
    families = {_family(k) for k in kinds.values() if k}
    if len(families) < 2 and (not families or detect(path) is not None):
        subs = [e for e in entries if e.is_dir() and kinds[e] not in ("git", "slack")]
        if not any(plan(e, detect, depth + 1) for e in subs):
            return None  # one kind of export (with sub-folders its adapter reads), or none
    parts: list[Part] = []
    for entry, kind in kinds.items():
        if kind is not None:
            sub = plan(entry, detect, depth + 1) if entry.is_dir() and kind not in ("git", "slack") else None
            parts.extend(sub if sub else [Part(entry, kind)])
            continue
        sub = plan(entry, detect, depth + 1) if entry.is_dir() else None
        if sub:
            parts.extend(sub)
        else:
            parts.append(Part(entry, None, _why_skipped(entry)))
    return parts


def _why_skipped(entry: Path) -> str:
    """Why an entry of a mixed folder is not read, in words."""
    if entry.is_dir():
        return "a folder with no export worklife reads"
    if not entry.is_file():
        return "not a regular file"
    suffix = entry.suffix.lower()
    if suffix in (".parquet", ".json", ".md", ".txt", ".html", ".pdf", ".zip", ".gz", ".toml", ".yaml", ".yml"):
        return f"a {suffix} file that is not an export worklife reads"
    if suffix == ".csv":
        return "a CSV whose columns are neither a people file nor activity nor outcomes"
    return "not an export worklife recognises; pass it with --kind to read it as one"


def order_key(kind: str | None) -> int:
    """People and CSV files first, calendars last, the rest between (stable)."""
    if kind == "csv":
        return 0
    if kind in ("ics", "graph"):
        return 2
    return 1


_BOOKKEEPING = ("dovecot", "courier", "maildirfolder", "maildirsize", "subscriptions")


def unread_files(path: Path, kind: str, limit: int = 100_000) -> list[Path]:
    """Files inside a folder export that its adapter passes over (a README beside calendars, a
    .json in a Maildir), so the summary can name them; hidden files and mail-server
    bookkeeping are not counted."""
    if not path.is_dir() or kind not in ("ics", "maildir"):
        return []
    from worklife.ingest.ics import SUFFIXES
    from worklife.ingest.maildir import SKIP_DIRS, SKIP_FILE

    out = []
    for n, p in enumerate(path.rglob("*")):
        if n > limit:
            break
        rel = p.relative_to(path).parts
        if not p.is_file() or any(x.startswith(".") for x in rel) or rel[0] in SKIP_DIRS:
            continue
        if kind == "ics":
            unread = p.suffix.lower() not in SUFFIXES
        else:
            unread = bool(SKIP_FILE.match(p.name)) and not p.name.lower().startswith(_BOOKKEEPING)
        if unread:
            out.append(p)
    return out


def unread_note(path: Path, kind: str) -> str | None:
    """One line naming the files of ``path`` its adapter does not read, or None."""
    files = unread_files(path, kind)
    if not files:
        return None
    names = ", ".join(str(f.relative_to(path)) for f in files[:5]) + (", …" if len(files) > 5 else "")
    what = "calendars (.ics)" if kind == "ics" else "mail messages"
    return f"{len(files):,} file(s) skipped, not {what}: {names}"
