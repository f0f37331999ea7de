"""DuckDB settings while metrics are computed and stored (``limited(con, config)``).

- **Memory.** DuckDB's default memory limit is 80 % of the machine's RAM, and it keeps
  buffers up to it: storing a year of 10,000 people's results in one transaction peaked
  at 17.5 GB (docs/performance.md). The connection's limit is lowered to
  ``metrics.memory_limit`` for the run (DuckDB spills to its temporary directory beyond
  it), never raised (a store opened with ``SET memory_limit = '1GB'`` keeps it).
- **Insertion order.** No step of a metric run depends on the order of rows (every
  window orders explicitly, results are sums), so ``preserve_insertion_order`` is off:
  DuckDB then materialises and inserts in parallel without re-ordering.

Both are restored afterwards. ``checkpoint_deferred(con)`` defers DuckDB's automatic
checkpoint while an incremental refresh computes its boxes into temporary tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from worklife.config import SIZE_RE, Config, parse_size
from worklife.errors import ConfigError


def size_bytes(text: str) -> int:
    """Bytes of a DuckDB size such as ``"4GB"``, ``"18.8 GiB"`` or ``"500 MB"``.

    Raises ``ConfigError`` for anything else.
    """
    try:
        return parse_size(text)
    except ValueError:
        raise ConfigError(f"metrics.memory_limit: {text!r} is not a size such as 4GB or 512MB") from None


def configured_limit(config: Config) -> int | None:
    """``metrics.memory_limit`` in bytes; None when empty (DuckDB's own limit applies).
    ``Config.set`` has already refused anything else (``worklife.config``)."""
    text = str(config["metrics.memory_limit"]).strip()
    return size_bytes(text) if text else None


@contextmanager
def limited(con: duckdb.DuckDBPyConnection, config: Config) -> Iterator[None]:
    """Run the block with DuckDB's memory limit at most ``metrics.memory_limit`` and
    insertion order not preserved; both settings are restored afterwards."""
    order = bool(_current(con, "preserve_insertion_order"))
    con.execute("SET preserve_insertion_order = false")
    try:
        with _memory_limited(con, configured_limit(config)):
            yield
    finally:
        con.execute(f"SET preserve_insertion_order = {str(order).lower()}")


@contextmanager
def _memory_limited(con: duckdb.DuckDBPyConnection, want: int | None) -> Iterator[None]:
    before = str(_current(con, "memory_limit"))
    if want is None or size_bytes(before) <= want:
        yield
        return
    con.execute("RESET memory_limit")
    default = _current(con, "memory_limit") == before  # restore by RESET: the shown value is rounded
    con.execute(f"SET memory_limit = '{want}B'")
    try:
        yield
    finally:
        con.execute("RESET memory_limit" if default else f"SET memory_limit = '{_unrounded(before)}'")


#: the WAL size below which DuckDB does not checkpoint by itself inside ``checkpoint_deferred``
DEFERRED_CHECKPOINT_THRESHOLD = "1GB"


@contextmanager
def checkpoint_deferred(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block with DuckDB's automatic checkpoint deferred (``checkpoint_threshold``
    raised to ``DEFERRED_CHECKPOINT_THRESHOLD``); restored afterwards.

    An incremental refresh computes its boxes into temporary tables (the steps, the
    rows, the staging table), which DuckDB checkpointed (compressed) as soon as they
    passed the default 16 MB: 0.27 s of a 1.9 s one-week box at 10,000 people, for tables
    dropped moments later (docs/performance.md, pass 9). The block writes nothing to the
    store itself, and the commit after it checkpoints as before.
    """
    before = str(_current(con, "checkpoint_threshold"))
    con.execute("RESET checkpoint_threshold")
    default = _current(con, "checkpoint_threshold") == before
    con.execute(f"SET checkpoint_threshold = '{DEFERRED_CHECKPOINT_THRESHOLD}'")
    try:
        yield
    finally:
        con.execute("RESET checkpoint_threshold" if default else f"SET checkpoint_threshold = '{_unrounded(before)}'")


def _unrounded(shown: str) -> str:
    """A shown limit ("7.4 GiB", truncated to 0.1) as a value that shows the same again:
    set as it is, it would come back 0.1 lower ("7.3 GiB") and drift down run by run."""
    m = SIZE_RE.match(shown)
    if not m or "." not in m.group(1):
        return shown
    return f"{float(m.group(1)) + 0.05:.2f}{m.group(2)}"


def _current(con: duckdb.DuckDBPyConnection, name: str) -> object:
    return con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
