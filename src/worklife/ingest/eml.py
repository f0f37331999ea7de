"""A single message file (``.eml``, ``.msg.txt`` saved from a mail client): headers only.

Folders of ``.eml`` files are read by the Maildir adapter (one file per message).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.mail import MailRows, parse_files, parse_options, starts_like

KIND = "eml"
SUFFIXES = (".eml",)
READS = "one .eml message"  # in words, for error messages
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9-]{2,40}:[ \t]")


def detect(path: Path) -> bool:
    """A file named ``*.eml``, or one that starts with a header field line."""
    if not path.is_file():
        return False
    if path.suffix.lower() == ".eml":
        return True
    return starts_like(path, _HEADER_LINE)


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """One batch with the message (or its quarantine record)."""
    if not path.is_file():
        raise IngestError("not a file (a .eml is one message file)", source=str(path))
    batch = Batch()
    (parsed,) = parse_files([(str(path), path.parent.name)], *parse_options(ctx))
    MailRows(ctx, str(path), ctx.owner).add(batch, parsed)
    yield batch
