"""Maildir folders (cur/new, nested folders, Maildir++ ``.Folder`` dirs, one-file-per-message trees).

Walks the tree lazily (``os.scandir``), reads only each file's header bytes and parses
them in a process pool for large trees (``worklife.ingest.mail``). A message found in
several folders counts once (same key). ``tmp/`` and the bookkeeping files of mail
servers (dovecot, courier) are skipped. Sent folders ("sent", "Sent Items", "_sent_mail",
``.Sent``) are used to infer the mailbox owner when ``--owner`` is not given.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext, chunked, parallel_map, worker_count
from worklife.ingest.git import is_bare_repository
from worklife.ingest.limits import Walk, regular_file
from worklife.ingest.mail import (
    SENT_FOLDER,
    MailRows,
    ParsedMail,
    batches_of,
    infer_owner,
    parse_files,
    parse_options,
    starts_like,
)

log = logging.getLogger(__name__)

KIND = "maildir"
SUFFIXES: tuple[str, ...] = ()  # a folder
READS = "Maildir or a folder of message files"  # in words, for error messages
CHUNK = 256  # files per pool task
SKIP_DIRS = {"tmp", ".git", "__pycache__"}
SKIP_FILE = re.compile(r"^(\.|dovecot|maildirfolder$|maildirsize$|subscriptions$|courier|"
                        r".*\.(json|csv|ics|txt|md|py|db|sqlite|parquet|zip|gz)$)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^(From |[A-Za-z0-9-]{2,40}:[ \t])")


def _looks_like_mail(path: Path) -> bool:
    return starts_like(path, _HEADER_LINE)


def detect(path: Path) -> bool:
    """A folder with cur/new, Maildir++ folders, or message files in its first folders."""
    if not path.is_dir() or (path / ".git").exists() or (path / "users.json").exists():
        return False
    if is_bare_repository(path):
        return False
    if (path / "cur").is_dir() or (path / "new").is_dir():
        return True
    seen = 0
    for f in message_files(str(path)):
        seen += 1
        if _looks_like_mail(Path(f[0])):
            return True
        if seen >= 20:
            break
    return False


def folder_of(root: str, directory: str) -> str:
    """The mail folder name of a directory: relative path without cur/new, Maildir++ dots kept."""
    rel = os.path.relpath(directory, root)
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in (".", "cur", "new")]
    return "/".join(parts)


def message_files(root: str, skipped: Walk | None = None) -> Iterator[tuple[str, str]]:
    """(path, folder) of every candidate message file, depth first, sorted, streaming.

    Never leaves ``root``: folder symlinks are not followed, file symlinks only when they
    resolve inside it; loops, FIFOs and devices are skipped (counted in ``skipped``).
    """
    state = skipped if skipped is not None else Walk()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            log.warning("cannot list %s: %s", d, exc)
            continue
        folder = folder_of(root, d)
        subdirs = []
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if e.name not in SKIP_DIRS and not is_bare_repository(Path(e.path)):
                    subdirs.append(e.path)
            elif not SKIP_FILE.match(e.name) and regular_file(root, e.path, state):
                yield e.path, folder
        stack.extend(reversed(subdirs))


def _is_sent(folder: str) -> bool:
    return bool(folder) and bool(SENT_FOLDER.search(folder.rstrip("/")))


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield batches of messages, recipients and people from every file under ``path``."""
    if not path.is_dir():
        raise IngestError("not a folder (a Maildir is a folder)", source=str(path))
    root = str(path)
    opts = parse_options(ctx)
    owner = ctx.owner
    if owner is None:
        sample = [p for p in parse_files(
            [f for _, f in zip(range(200), (f for f in message_files(root) if _is_sent(f[1])))], *opts)
            if isinstance(p, ParsedMail)]
        owner = infer_owner(sample)
        if owner:
            log.info("%s: mailbox owner inferred from sent folders: %s", root, owner)
    rows = MailRows(ctx, str(path), owner)
    skipped = Walk()
    chunks = chunked(message_files(root, skipped), CHUNK)
    yield from batches_of(rows, parallel_map(parse_files, chunks, opts, worker_count(ctx.config)),
                          ctx.batch_size)
    if skipped.skipped:
        yield Batch(notes=skipped.notes(path))
