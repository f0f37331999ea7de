"""One writer at a time: an advisory lock file beside the store (docs/operations.md).

``ingest`` and ``metrics`` hold ``<store>.lock`` (``fcntl.flock``, exclusive) while they
write, so a nightly run that is still going when the next one starts makes the second
exit with ``EXIT_LOCKED`` (75, ``EX_TEMPFAIL``: try again later) instead of waiting on
DuckDB's own file lock or failing half-way. The lock is released by the kernel when the
process ends, however it ends; the file stays (removing it would race) and holds the
pid, start time and command of the last holder, for the message.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from worklife.errors import StoreError

#: Exit code when another run holds the lock (sysexits.h EX_TEMPFAIL: retry later).
EXIT_LOCKED = 75


class LockHeld(StoreError):
    """Another worklife run is writing this store; ``exit_code`` is ``EXIT_LOCKED``."""

    exit_code = EXIT_LOCKED


def lock_path(db: str | Path) -> Path:
    p = Path(db)
    return p.with_name(p.name + ".lock")


@contextmanager
def store_lock(db: str | Path, wait_seconds: float = 0.0) -> Iterator[Path | None]:
    """Hold the store's run lock for the ``with`` block; LockHeld if another run has it.

    ``wait_seconds``: keep trying that long (every 0.5 s) before giving up. An in-memory
    store (``":memory:"``) needs no lock (yields None).
    """
    if str(db) == ":memory:":
        yield None
        return
    path = lock_path(db)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the run lock: {exc.strerror}") from exc
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or "unknown"
                    raise LockHeld(f"{db}: another worklife run holds the lock {path} ({holder}); "
                                   f"exit {EXIT_LOCKED}: try again when it has finished") from None
                time.sleep(0.5)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        note = f"pid {os.getpid()} since {now}: {' '.join(os.path.basename(a) for a in sys.argv[:3])}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing releases the flock
