"""mbox files (mboxo/mboxrd, as exported by Thunderbird, Gmail Takeout, mutt).

The file is scanned in large blocks for message separators (a line starting with
``From `` at the start of the file, after a blank line, or as a full postmark line
``From addr Mon Jan  1 00:00:00 2024``), so memory stays flat and a
1 GB mailbox is read at disk speed; only each message's header block is parsed (in a
process pool for large files). Each message's location is ``file:line`` of its
``From `` line. A message cut off before its headers end (a truncated file) is
quarantined with that location.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest.base import Batch, IngestContext, chunked, parallel_map, worker_count
from worklife.ingest.mail import (
    MAX_HEADER_BYTES, SENT_FOLDER, MailRows, ParsedMail, Rejected, batches_of, infer_owner,
    parse_blocks, parse_options,
)

log = logging.getLogger(__name__)

KIND = "mbox"
SUFFIXES = (".mbox",)
READS = "mbox file"  # in words, for error messages
BLOCK = 8 * 1024 * 1024
CHUNK = 512  # header blocks per pool task
_FROM_LINE = re.compile(rb"From \S+")


def detect(path: Path) -> bool:
    """A file whose first line is an mbox ``From `` separator (or named ``*.mbox``)."""
    if not path.is_file():
        return False
    if path.suffix.lower() == ".mbox":
        return True
    try:
        with open(path, "rb") as fh:
            return bool(_FROM_LINE.match(fh.read(256)))
    except OSError:
        return False


def messages(path: Path) -> Iterator[tuple[bytes, str]]:
    """(header bytes, ``file:line``) of each message, streaming; bodies are skipped unread.

    A header cut off by the end of the file is yielded with the ``TRUNCATED`` marker.
    Works on offsets into one block buffer (never re-slicing it per message), so a
    file is scanned in linear time with at most two blocks in memory.
    """
    name = str(path)
    with open(path, "rb") as fh:
        buf = fh.read(BLOCK)
        if not buf.strip():
            raise IngestError("empty mbox file: it holds no messages (was the export cut short?)",
                              source=name)
        if not buf.startswith(b"From "):
            raise IngestError("not an mbox file: the first line is not a 'From ' separator",
                              source=name, line=1)
        line = 1  # line number at offset ``pos``
        pos = 0
        in_header = True
        while True:
            if in_header:  # buf[pos:] starts with a "From " line
                end = _header_end(buf, pos)
                if end < 0 and len(buf) - pos < MAX_HEADER_BYTES:
                    more = fh.read(BLOCK)
                    if more:
                        buf, pos = buf[pos:] + more, 0
                        continue
                    nl = buf.find(b"\n", pos)
                    yield buf[nl + 1:] + TRUNCATED, f"{name}:{line}"
                    return
                nl = buf.find(b"\n", pos)
                if end < 0:  # no blank line within the limit: the message is quarantined, not cut
                    end = pos + MAX_HEADER_BYTES
                    yield buf[nl + 1:nl + 1 + 4096] + OVERSIZE, f"{name}:{line}"
                else:
                    yield buf[nl + 1:end + 1], f"{name}:{line}"
                line += buf.count(b"\n", pos, end)
                pos = end
                in_header = False
            i, sep = _separator(buf, pos)
            if i >= 0:
                line += buf.count(b"\n", pos, i + sep)
                pos = i + sep
                in_header = True
                continue
            more = fh.read(BLOCK)
            if not more:
                return
            keep = max(pos, len(buf) - 256)  # a separator may straddle the block boundary
            line += buf.count(b"\n", pos, keep)
            buf, pos = buf[keep:] + more, 0


TRUNCATED = b"\x00TRUNCATED"
OVERSIZE = b"\x00OVERSIZE"


def _header_end(buf: bytes, pos: int) -> int:
    """Offset of the newline that ends the header block at ``pos`` (before the blank line), or -1."""
    i = buf.find(b"\n\n", pos)
    j = buf.find(b"\n\r\n", pos, i if i >= 0 else len(buf))  # bounded: never scan past a hit
    return j if j >= 0 else i


_POSTMARK = re.compile(rb"From \S+\s+\w{3} \w{3} [ \d]?\d \d\d:\d\d(:\d\d)? (\S+ )?\d{4}")


def _separator(buf: bytes, pos: int) -> tuple[int, int]:
    """(offset, length) of what precedes the next ``From `` separator line after ``pos``, or (-1, 0).

    A ``From `` line separates messages after a blank line (the standard form), or
    when it is a full postmark line (``From addr Mon Jan  1 00:00:00 2024``) even without one.
    """
    i = buf.find(b"\nFrom ", pos)
    while i >= 0:
        if i - 1 >= pos and buf[i - 1] == 10:  # "\n"
            return i - 1, 2
        if i - 2 >= pos and buf[i - 2:i] == b"\n\r":
            return i - 2, 3
        if _POSTMARK.match(buf, i + 1):
            return i, 1
        i = buf.find(b"\nFrom ", i + 1)
    return -1, 0


def _parse(blocks: list[tuple[bytes, str]], ignore: str | None, lo: int, hi: int,
           *limits: int) -> list[ParsedMail | Rejected]:
    out: list[ParsedMail | Rejected] = []
    good = []
    for data, loc in blocks:
        if data.endswith(TRUNCATED):
            out.append(Rejected(loc, "truncated message: the file ends inside its header",
                                data[:-len(TRUNCATED)][:300].decode("utf-8", "replace")))
        elif data.endswith(OVERSIZE):
            out.append(Rejected(loc, f"header block over ingest.max_header_bytes ({MAX_HEADER_BYTES:,} bytes); "
                                "message not read", data[:300].decode("utf-8", "replace")))
        else:
            good.append((data, loc))
    out.extend(parse_blocks(good, ignore, lo, hi, *limits))
    return out


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Yield batches of messages from one mbox file."""
    if path.is_dir():
        raise IngestError("is a folder; an mbox is one file (use --kind maildir for folders)", source=str(path))
    opts = parse_options(ctx)
    owner = ctx.owner
    if owner is None and SENT_FOLDER.search(path.stem):
        sample = [p for p in parse_blocks([b for _, b in zip(range(200), messages(path))], *opts)
                  if isinstance(p, ParsedMail)]
        owner = infer_owner(sample)
    rows = MailRows(ctx, str(path), owner)
    yield from batches_of(rows, parallel_map(_parse, chunked(messages(path), CHUNK), opts,
                                             worker_count(ctx.config)), ctx.batch_size)
