"""The exception tree of worklife.

    WorklifeError            base of everything worklife raises on purpose
    ├── ConfigError          a worklife.toml or flag value is invalid
    │   └── SettingError     a setting is unknown, of the wrong type or value, or the TOML is invalid (exit 2)
    ├── IngestError          a source could not be read at all (file, line)
    ├── StoreError           the DuckDB store is missing, locked or of another schema
    ├── PolicyError          a policy preset or policy.toml is invalid
    └── GuardError           the delivery guard refused a request

The CLI turns each into one clear line on stderr and exit code 1 (``exit_code`` where an
error sets one: 2 for a bad setting, 75 for a held run lock); the HTTP API
answers ``{"ok": false, "error": ..., "status": ...}``.
"""

from __future__ import annotations


class WorklifeError(Exception):
    """Base class for errors that carry a message meant for the user."""


class ConfigError(WorklifeError):
    """A configuration value is invalid."""


class SettingError(ConfigError):
    """A setting (worklife.toml or a flag) is unknown, of the wrong type or an invalid value:
    bad usage, so the CLI exits with ``exit_code`` 2."""

    exit_code = 2


class IngestError(WorklifeError):
    """A source could not be read; ``source`` and ``line`` say where."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")


class StoreError(WorklifeError):
    """The store is missing, unreadable or of an unexpected schema version."""


class PolicyError(WorklifeError):
    """A policy preset or policy file is invalid."""


class GuardError(WorklifeError):
    """The delivery guard refused a request; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        self.status = status
        super().__init__(message)
