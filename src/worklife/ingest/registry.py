"""The ingest adapters, each imported like any module and saying what it reads.

An adapter is a module with ``KIND`` (the ``--kind`` name), ``READS`` (what it reads, in
words), ``SUFFIXES`` (the file-name endings it claims; empty for a folder layout such as a
Maildir or a git repository), ``detect(path) -> bool`` (told by suffix and by sniffing the
content or the folder's layout) and ``read(path, ctx) -> Iterator[Batch]``.

``BUILTIN`` lists them in detection order, most specific first: the first adapter whose
``detect`` accepts a path reads it (a GitHub ``.json`` before the generic JSON table, a
Jira or outcomes CSV before a people CSV). Nothing here is loaded by name, so the import
graph shows every adapter (``tests/test_import_graph.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from worklife.errors import IngestError
from worklife.ingest import (
    csvfiles,
    eml,
    git,
    github,
    graph,
    ics,
    jira,
    maildir,
    mbox,
    outcomes_csv,
    slack,
)
from worklife.ingest.base import Batch, IngestContext


@dataclass(frozen=True)
class Adapter:
    """One source kind: its name, what it reads, the suffixes it claims, and its two functions."""

    kind: str
    reads: str
    suffixes: tuple[str, ...]
    detect: Callable[[Path], bool]
    read: Callable[[Path, IngestContext], Iterator[Batch]]

    @classmethod
    def of(cls, module: object) -> Adapter:
        """The adapter a module declares (``KIND``, ``READS``, ``SUFFIXES``, ``detect``, ``read``)."""
        missing = [n for n in ("KIND", "detect", "read") if not hasattr(module, n)]
        if missing:
            raise TypeError(f"{getattr(module, '__name__', module)!r} is not an ingest adapter: "
                            f"it has no {', '.join(missing)}")
        return cls(kind=str(getattr(module, "KIND")), reads=str(getattr(module, "READS", "")),
                   suffixes=tuple(getattr(module, "SUFFIXES", ())),
                   detect=getattr(module, "detect"), read=getattr(module, "read"))


# Detection order: most specific first.
BUILTIN: tuple[Adapter, ...] = tuple(Adapter.of(m) for m in (
    github, jira, graph, slack, ics, git, maildir, mbox, eml, outcomes_csv, csvfiles,
))


def supported(adapters: Iterable[Adapter]) -> str:
    """The kinds, each with what it reads, as one line: ``ics (iCalendar files ...); git (...)``."""
    return "; ".join(f"{a.kind} ({a.reads})" if a.reads else a.kind for a in adapters) or "none registered"


def unknown_kind(kind: str, adapters: Iterable[Adapter], source: str | None = None) -> IngestError:
    """The one error for a kind no adapter has, listing every supported kind."""
    return IngestError(f"unknown kind {kind!r}; supported: auto (detect each source); {supported(adapters)}",
                       source=source)


def unrecognised(path: Path, adapters: Iterable[Adapter]) -> IngestError:
    """The one error for a path no adapter recognises, listing what is read."""
    return IngestError(f"cannot tell what kind of export this is; pass --kind KIND if it is one of: "
                       f"{supported(adapters)}", source=str(path))
