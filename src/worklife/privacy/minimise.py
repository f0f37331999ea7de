"""Store only what a metric needs: meeting titles, mail subjects and chat channel names.

Applied where rows enter the store (``worklife.ingest.write_batch`` and the synthetic
org's ``load_into_store``), never in an adapter. Unless ``privacy.keep_titles`` is on:

- a **meeting title** becomes the phrases in it that a rule matches, joined by `` · ``:
  the status-meeting patterns (``metrics.status_title_patterns``), the work-about-work
  categories (``metrics.work_about_work_categories``) and the urgency words of
  ``worklife boundaries``. "Weekly status sync – Project Falcon" becomes
  ``status · sync``; a title no rule matches becomes the empty string. Every metric
  that reads titles matches the same rules, so it gives the same answer;
- a **mail subject** becomes those phrases plus ``#`` and a keyed hash of the subject
  without its ``Re:``/``Fwd:`` prefixes (15 decimal digits, HMAC-SHA-256 with the
  store's pseudonym key), so that messages of one conversation still share a value; a
  thread id made of the subject (``subject:…``, mail without a Message-ID) is hashed alike;
- a **chat channel name** is treated like a subject (phrases and a keyed hash): the
  category survives, and distinct channels stay distinct without their names.

Outcome titles (commits, pull requests, issues) are kept: they are the work a digest
reports. Changing the setting later does not rewrite rows already stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

import pandas as pd

from worklife.config import Config

PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
SEPARATOR = " · "
SUBJECT_THREAD = "subject:"  # ingest.mail's thread id for mail without Message-ID
URGENT = (r"\burgent\b", r"\bincident\b", r"\boutage\b")  # = policy.boundary.DEFAULT_URGENT


class Minimiser:
    """Reduce titles, subjects and channel names to what the configured rules match."""

    def __init__(self, config: Config, key: str):
        pats: list[str] = list(config["metrics.status_title_patterns"])
        for patterns in dict(config["metrics.work_about_work_categories"]).values():
            pats.extend(patterns)
        pats.extend(_urgent_patterns())
        self._rules = [re.compile(p, re.IGNORECASE) for p in dict.fromkeys(pats)]
        self._any = re.compile("|".join(f"(?:{p})" for p in dict.fromkeys(pats)) or "(?!)", re.IGNORECASE)
        self._key = key.encode("utf-8")

    def phrases(self, text: str) -> str:
        """The phrases of ``text`` matched by any rule, in order of appearance, once each."""
        found: dict[str, int] = {}
        if not self._any.search(text):  # most texts match no rule: one scan instead of one per rule
            return ""
        for rule in self._rules:
            for m in rule.finditer(text):
                if m.group(0).strip():
                    found.setdefault(m.group(0).strip(), m.start())
        return SEPARATOR.join(sorted(found, key=lambda p: (found[p], p)))

    def thread_hash(self, text: str) -> str:
        """A keyed hash of a subject without reply/forward prefixes (decimal, 15 digits)."""
        norm = " ".join(PREFIX.sub("", text).lower().split())
        digest = hmac.new(self._key, norm.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"#{int(digest[:15], 16) % 10**15:015d}"

    def title(self, value: Any) -> Any:
        return value if not isinstance(value, str) else self.phrases(value)

    def subject(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        phrases = self.phrases(value)
        return f"{phrases} {self.thread_hash(value)}" if phrases else self.thread_hash(value)

    def rows(self, table: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``rows`` of ``table`` (meetings or messages) with their text reduced."""
        col, fn = COLUMNS[table][0], self.title if table == "meetings" else self.subject
        memo: dict[Any, Any] = {}

        def reduce(v: Any) -> Any:
            if v not in memo:
                memo[v] = fn(v)
            return memo[v]

        out = [{**r, col: reduce(r[col])} if col in r else r for r in rows]
        if table == "messages":
            for r in out:
                if "thread_id" in r:
                    r["thread_id"] = self.thread(r["thread_id"])
        return out

    def thread(self, value: Any) -> Any:
        """A thread id made of a subject (``subject:<text>``, mail without Message-ID) is hashed."""
        if isinstance(value, str) and value.startswith(SUBJECT_THREAD) and not value[8:].startswith("#"):
            return SUBJECT_THREAD + self.thread_hash(value[len(SUBJECT_THREAD):])
        return value

    def frame(self, table: str, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``df`` (meetings or messages) with its text column reduced (each value once)."""
        col, fn = COLUMNS[table][0], self.title if table == "meetings" else self.subject
        if col not in df.columns:
            return df
        out = df.copy()
        uniq = pd.unique(out[col].dropna())
        out[col] = out[col].map(dict(zip(uniq, (fn(v) for v in uniq))))
        if table == "messages" and "thread_id" in out.columns:
            out["thread_id"] = out["thread_id"].map(self.thread)
        return out


COLUMNS = {"meetings": ("title",), "messages": ("subject_or_channel",)}


def _urgent_patterns() -> tuple[str, ...]:
    try:
        from worklife.policy.boundary import DEFAULT_URGENT
    except ImportError:  # pragma: no cover - policy is part of worklife
        return URGENT
    return tuple(DEFAULT_URGENT)


_CACHE: dict[tuple[str, str], Minimiser] = {}


def minimiser_for(store: Any, config: Config) -> Minimiser | None:
    """The store's minimiser (None with ``privacy.keep_titles``); the key is the pseudonym key.

    An in-memory store without ``privacy.key_file`` gets a random key for its lifetime.
    """
    if bool(config["privacy.keep_titles"]):
        return None
    path = str(getattr(store, "path", ":memory:"))
    memory = path == ":memory:" and not str(config["privacy.key_file"]).strip()
    rules = repr((config["metrics.status_title_patterns"], config["metrics.work_about_work_categories"],
                  config["privacy.key_file"]))
    cache_key = (f"memory:{id(store)}" if memory else path, rules)
    if cache_key not in _CACHE:
        from worklife.privacy.pseudonyms import load_key

        key = secrets.token_hex(32) if memory else load_key(path, config)
        _CACHE[cache_key] = Minimiser(config, key)
    return _CACHE[cache_key]


def minimise(store: Any, config: Config | None, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` as they may be stored (see the module docstring)."""
    if table not in ("meetings", "messages") or not rows:
        return rows
    m = minimiser_for(store, config or Config())
    return rows if m is None else m.rows(table, rows)


def minimise_frame(store: Any, config: Config | None, table: str, df: pd.DataFrame) -> pd.DataFrame:
    """``minimise`` for a DataFrame of rows (bulk loaders)."""
    if table not in COLUMNS or df.empty:
        return df
    m = minimiser_for(store, config or Config())
    return df if m is None else m.frame(table, df)
