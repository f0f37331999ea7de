"""A box's compiled SQL kept in this user's cache, so the next refresh runs it without Ibis.

An incremental refresh of one added week spent about 0.5 s of single-threaded Python
building the box's Ibis graph and compiling it to SQL (docs/performance.md, pass 9): a
sixth of the update. The box's SQL does not depend on which box it is: its window and
days are DuckDB variables (``pipeline.WINDOW_VARIABLES``), listed people come from a
table (``pipeline.PeopleTable``) and the calendar's tables have stable names
(``replay.StepRecorder``). So the SQL of a box computed in one batch is kept under a key
of everything else it depends on, and the next refresh with that key plays it
(``replay.Recording``) instead of compiling.

The key (``recording_key``) covers: this module's format; the worklife source code and
the versions of Ibis, sqlglot, DuckDB, pyarrow and pandas (``code_fingerprint``); every
setting in force; the graph's shape (``run_job`` names it: everyone, or listed people);
the schemas of the in-memory tables it reads and of the raw tables of the store. A change
of any of them is a new key: the SQL is compiled again (the ``KEEP`` most recent keys
stay). Kept SQL that fails to run is dropped and the box compiled.

Where: ``$WORKLIFE_CACHE_DIR``, else ``$XDG_CACHE_HOME/worklife``, else
``~/.cache/worklife``, in ``sql/`` (made 0700). Not in the store: a store file can come
from someone else, and SQL read from it would be run (DuckDB SQL can write files). The
folder and each file must belong to this user and be writable by no one else, or they
are ignored; a folder that cannot be made means nothing is kept (every box compiles).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import duckdb
import ibis.expr.types as ir

from worklife.config import Config
from worklife.metrics.pipeline import SOURCE_TABLES
from worklife.metrics.replay import Recording
from worklife.store import Store

log = logging.getLogger(__name__)

#: the environment variable naming the cache folder
ENV = "WORKLIFE_CACHE_DIR"
#: bump when what is kept, or how it is played, changes
FORMAT = 1
#: kept keys (the most recent ones: several stores and settings on one machine)
KEEP = 16
_VERSIONED = ("ibis-framework", "sqlglot", "duckdb", "pyarrow", "pandas")


@functools.cache
def code_fingerprint() -> str:
    """Hash of the worklife package's source and the versions of the libraries that turn
    the graph into SQL (computed once per process: ~10 ms)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    for pkg in _VERSIONED:
        try:
            h.update(f"{pkg}={metadata.version(pkg)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{pkg}=?".encode())
    h.update(f"duckdb-runtime={duckdb.__version__}".encode())
    return h.hexdigest()


def _source_schemas(store: Store) -> list:
    """Columns and types of the raw tables the graph reads."""
    names = ", ".join(f"'{t}'" for t in SOURCE_TABLES)
    return store.rows("SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
                      f"WHERE schema_name = 'main' AND table_name IN ({names}) "
                      "ORDER BY table_name, column_index")


def recording_key(store: Store, config: Config, tables: Mapping[str, ir.Table], shape: str) -> str:
    """The key a box's SQL is kept under (see the module's docstring); ``tables``: the
    in-memory tables it reads by role (``LocalCalendar.memtables``, the box's people)."""
    doc = {
        "format": FORMAT, "code": code_fingerprint(), "shape": shape,
        "settings": {setting.name: value for setting, value in config.items()},
        "tables": {role: str(t.schema()) for role, t in sorted(tables.items())},
        "sources": _source_schemas(store),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def cache_dir() -> Path:
    """The folder kept SQL lives in (see the module's docstring)."""
    if os.environ.get(ENV):
        base = Path(os.environ[ENV])
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]) / "worklife"
    else:
        base = Path.home() / ".cache" / "worklife"
    return base / "sql"


def _private(path: Path) -> bool:
    """``path`` (not a symlink) belongs to this user and no one else can write it."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _folder(make: bool) -> Path | None:
    """The cache folder when it is private (made 0700 when ``make``), else None."""
    folder = cache_dir()
    if make and not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            log.info("metrics: no folder for kept SQL (%s); every box compiles", exc)
            return None
    if not _private(folder):
        if folder.exists():
            log.warning("metrics: %s is not private to this user: kept SQL is not used", folder)
        return None
    return folder


def _file(folder: Path, key: str) -> Path:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"not a recording key: {key!r}")
    return folder / f"{key}.json"


def load(key: str) -> Recording | None:
    """The SQL kept under ``key``; None when there is none (or it cannot be trusted or read)."""
    folder = _folder(make=False)
    if folder is None:
        return None
    path = _file(folder, key)
    if not _private(path):
        return None
    try:
        return Recording.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(key: str, recording: Recording) -> None:
    """Keep ``recording`` under ``key`` (written whole, then renamed); only the ``KEEP``
    most recently written keys stay."""
    folder = _folder(make=True)
    if folder is None:
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(recording.to_json())
        os.replace(tmp, _file(folder, key))
        tmp = None
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.info("metrics: could not keep a box's SQL in %s (%s)", folder, exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def forget(key: str) -> None:
    """Drop the SQL kept under ``key`` (it failed to run)."""
    folder = _folder(make=False)
    if folder is not None:
        _file(folder, key).unlink(missing_ok=True)
