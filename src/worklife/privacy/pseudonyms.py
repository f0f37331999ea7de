"""Keyed pseudonyms: where the key lives, and replacing people's identifiers in any output.

The key (docs/privacy.md): ``privacy.key_file`` if set, else the file ``<store>.key``
beside the store (``worklife.duckdb`` -> ``worklife.duckdb.key``), created on first use
with 32 random bytes (hex) and mode 0600. It is kept outside the store so that a copy or
export of the store does not carry it; the same key gives the same pseudonyms on every
run, so exports of different weeks join on PersonId. Delete the file to unlink all
earlier pseudonyms from new ones. An explicit ``--key`` on a command wins.

``Scrubber`` replaces every identifier of a person known to the store (person_id,
e-mail, aliases such as Slack ids, display name) and any other e-mail address in a
text, a DataFrame or a dataclass by that person's pseudonym.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from worklife.config import Config
from worklife.errors import ConfigError

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def key_path(store_path: str | Path | None, config: Config) -> Path:
    """The key file in force: ``privacy.key_file`` or ``<store>.key``."""
    configured = str(config["privacy.key_file"]).strip()
    if configured:
        return Path(configured).expanduser()
    if store_path is None or str(store_path) == ":memory:":
        raise ConfigError("pseudonyms need a key: set privacy.key_file or give --key")
    p = Path(store_path)
    return (p / "pseudonym.key") if p.is_dir() else p.with_name(p.name + ".key")


def load_key(store_path: str | Path | None, config: Config, create: bool = True) -> str:
    """The pseudonym key (see the module docstring); created (0600) when missing and ``create``."""
    path = key_path(store_path, config)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"{path}: no pseudonym key; run a pseudonymising command once "
                              "or set privacy.key_file") from None
        text = secrets.token_hex(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        return text
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the pseudonym key: {exc.strerror}") from exc
    if len(text) < 16:
        raise ConfigError(f"{path}: pseudonym key is shorter than 16 characters; use a longer one")
    return text


class Scrubber:
    """Replace people's identifiers by pseudonyms in text, frames and dataclasses."""

    def __init__(self, key: str, identities: dict[str, str], keep: Iterable[str] = ()):
        """``identities``: identifier (any case) -> person_id; ``keep``: person_ids left as they are."""
        from worklife.privacy import pseudonym

        self.key = key
        kept = {k.strip().lower() for k in keep}
        self._map = {ident.lower(): (pid if pid.lower() in kept else pseudonym(pid, key))
                     for ident, pid in identities.items() if ident and ident.strip()}
        self._pseudo: Callable[[str], str] = lambda v: pseudonym(v, key) or v
        names = sorted(self._map, key=len, reverse=True)
        self._re = re.compile("|".join(rf"(?<![\w.@-]){re.escape(n)}(?![\w@-]|\.\w)" for n in names),
                              re.IGNORECASE) if names else None
        self._kept = kept

    @classmethod
    def for_store(cls, store: Any, key: str, keep: Iterable[str] = ()) -> Scrubber:
        """Identities from the store's ``people`` and ``person_aliases`` tables."""
        ids: dict[str, str] = {}
        for pid, email, name in store.rows(
                "SELECT person_id, email, display_name FROM people"):
            for ident in (pid, email, name):
                if ident:
                    ids[str(ident)] = str(pid)
        for alias, pid in store.rows("SELECT alias, person_id FROM person_aliases"):
            if alias:
                ids.setdefault(str(alias), str(pid))
        return cls(key, ids, keep)

    def text(self, value: str) -> str:
        """``value`` with every known identifier and e-mail address replaced."""
        if self._re is not None:
            value = self._re.sub(lambda m: self._map[m.group(0).lower()], value)
        return EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in self._kept
                         else self._pseudo(m.group(0)), value)

    def value(self, value: Any) -> Any:
        """Strings, containers and dataclasses, recursively; other values unchanged."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, pd.DataFrame):
            return self.frame(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self.value(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return dataclasses.replace(value, **changes)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy with every text cell (and text index) scrubbed."""
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].map(lambda v: self.text(v) if isinstance(v, str) else v)
        if out.index.dtype == object:
            out.index = out.index.map(lambda v: self.text(v) if isinstance(v, str) else v)
        return out


PSEUDONYM = re.compile(r"p-[0-9a-f]{16}")


def resolve_pseudonym(store: Any, store_path: str | Path | None, config: Config, value: str) -> str | None:
    """The person_id whose pseudonym is ``value`` (with the store's key), else None."""
    from worklife.privacy import pseudonym

    if not PSEUDONYM.fullmatch(value.strip()):
        return None
    key = load_key(store_path, config, create=False)
    for (pid,) in store.rows("SELECT person_id FROM people"):
        if pseudonym(pid, key) == value.strip():
            return str(pid)
    return None


def scrubber_for(config: Config, store: Any, store_path: str | Path | None,
                 keep: Iterable[str] = ()) -> Scrubber | None:
    """A Scrubber when ``privacy.pseudonymise`` is on, else None."""
    if not bool(config["privacy.pseudonymise"]):
        return None
    return Scrubber.for_store(store, load_key(store_path, config), keep)
