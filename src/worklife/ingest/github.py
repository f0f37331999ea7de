"""GitHub issues and pull requests, from a REST API export saved to a file.

Accepted: a JSON array of issue objects (``GET /repos/{o}/{r}/issues``, where pull
requests carry a ``pull_request`` key) or pull objects (``GET /repos/{o}/{r}/pulls``,
with top-level ``merged_at``), or a search result ``{"items": [...]}``; pages
concatenated into one array are fine. Bodies are never read.

Rows written to ``outcomes`` per item (``ref`` = ``owner/repo#number``, ``project`` =
``owner/repo``, ``url`` = ``html_url``, ``state`` = the item's state now: ``open``,
``blocked`` (open with a label matching ``digest.blocked_patterns``), ``closed`` or
``merged``):

- pull request: ``pr_opened`` (author, ``created_at``); ``pr_merged`` (author,
  ``merged_at``) or ``pr_closed`` (author, ``closed_at``, closed unmerged);
- issue: ``issue_opened`` (author, ``created_at``); ``issue_closed`` (each assignee, else
  ``closed_by``, else the author, at ``closed_at``) or ``issue_not_planned`` when
  ``state_reason`` is ``not_planned``;
- both: ``pr_updated`` / ``issue_updated`` (each assignee, else the author, at
  ``updated_at``): the last activity, used for "moved" and "stale";
- an open issue with ``state_reason`` ``reopened``: ``issue_reopened`` (each assignee,
  else the author, at ``updated_at``; the export does not say when it was reopened).

People: a login resolves through the alias ``github:<login>`` (aliases CSV, see
``outcomes_csv``); unknown logins are kept as ``github:<login>``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from worklife.ingest.base import Batch, IngestContext
from worklife.ingest.outcomes_csv import (
    is_blocked,
    iter_json_items,
    outcome_row,
    parse_instant,
    resolve_actor,
    sniff,
)

log = logging.getLogger(__name__)

KIND = "github"
SUFFIXES = (".json",)
READS = "GitHub issues/pulls .json"  # in words, for error messages

_HTML = re.compile(r"https?://[^/]+/([^/]+/[^/]+)/(issues|pull)/(\d+)")
_API = re.compile(r"/repos/([^/]+/[^/]+)")


def detect(path: Path) -> bool:
    """A .json file whose head looks like GitHub REST issue or pull objects."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    head = sniff(path, ('"number"', '"html_url"', '"created_at"', '"login"'))
    # github.com, or GitHub Enterprise (its own host, but the REST fields say which API it is)
    return bool(head) and any(n in head for n in ("github", '"repository_url"', '"pull_request"', '"merged_at"'))


def read(path: Path, ctx: IngestContext) -> Iterator[Batch]:
    """Stream the export; an object that cannot be read is quarantined as ``file#index``."""
    patterns = ctx.config["digest.blocked_patterns"]
    batch = Batch()
    for i, obj in enumerate(iter_json_items(path, keys=("items",))):
        batch.read += 1
        where = f"{path}#{i}"
        try:
            if not isinstance(obj, dict):
                raise ValueError(getattr(obj, "reason", "not a JSON object"))
            ref = _ref(obj)
            where = f"{path}#{ref}"
            for row in _rows(obj, ref, ctx, patterns, path.name):
                batch.add("outcomes", row)
        except (ValueError, TypeError, KeyError) as exc:
            excerpt = str({k: obj.get(k) for k in ("number", "title", "html_url")}) if isinstance(obj, dict) else str(obj)
            batch.reject(where, f"unreadable GitHub item: {exc}", excerpt)
        if len(batch) >= ctx.batch_size:
            yield batch
            batch = Batch()
    if batch.read:
        yield batch


def _ref(obj: dict[str, Any]) -> str:
    number = obj.get("number")
    if not isinstance(number, int):
        raise ValueError("missing number")
    repo = None
    m = _HTML.match(str(obj.get("html_url") or ""))
    if m:
        repo = m.group(1)
    if repo is None:
        m2 = _API.search(str(obj.get("repository_url") or obj.get("url") or ""))
        repo = m2.group(1) if m2 else None
    if repo is None:
        repo = (((obj.get("base") or {}).get("repo") or {}).get("full_name"))
    if not repo:
        raise ValueError(f"#{number}: cannot tell the repository (no html_url or repository_url)")
    return f"{repo}#{number}"


def _login(user: Any) -> str | None:
    return user.get("login") if isinstance(user, dict) else None


def _rows(obj: dict[str, Any], ref: str, ctx: IngestContext, patterns: list[str], source: str) -> list[dict]:
    title = obj.get("title")
    if not isinstance(title, str):
        raise ValueError("missing title")
    created = parse_instant(obj.get("created_at"))
    if created is None:
        raise ValueError("missing created_at")
    updated = parse_instant(obj.get("updated_at")) or created
    closed = parse_instant(obj.get("closed_at"))
    is_pr = "pull_request" in obj or "merged_at" in obj or "head" in obj
    merged = parse_instant(obj.get("merged_at") or (obj.get("pull_request") or {}).get("merged_at"))
    author = _login(obj.get("user"))
    if not author:
        raise ValueError("missing user.login")
    assignees = [a for a in (_login(x) for x in obj.get("assignees") or []) if a]
    if not assignees and _login(obj.get("assignee")):
        assignees = [_login(obj.get("assignee"))]  # type: ignore[list-item]
    labels = [lb.get("name") if isinstance(lb, dict) else str(lb) for lb in obj.get("labels") or []]
    raw_state = str(obj.get("state") or "").lower()
    if raw_state not in ("open", "closed"):
        raise ValueError(f"unknown state {raw_state!r}")
    if merged is not None:
        state = "merged"
    elif raw_state == "closed":
        state = "closed"
    else:
        state = "blocked" if is_blocked(labels, patterns) else "open"
    if raw_state == "closed" and closed is None and merged is None:
        raise ValueError("closed without closed_at")

    repo = ref.split("#")[0]
    common = {"ref": ref, "title": title, "state": state, "url": obj.get("html_url"), "project": repo,
                  "source": "github", "source_ref": f"{source}#{ref}"}

    def row(kind: str, actor: str, at: Any) -> dict:
        person = resolve_actor(ctx, ("github", actor))
        return outcome_row(kind=kind, actor=actor, person_id=person, at=at, **common)  # type: ignore[arg-type]

    owners = assignees or [author]
    prefix = "pr" if is_pr else "issue"
    rows = [row(f"{prefix}_opened", author, created)]
    if is_pr and merged is not None:
        rows.append(row("pr_merged", author, merged))
    elif is_pr and closed is not None:
        rows.append(row("pr_closed", author, closed))
    elif not is_pr and closed is not None and raw_state == "closed":
        kind = "issue_not_planned" if obj.get("state_reason") == "not_planned" else "issue_closed"
        closed_by = _login(obj.get("closed_by"))
        closers = assignees or [closed_by or author]
        rows.extend(row(kind, a, closed) for a in closers)
    rows.extend(row(f"{prefix}_updated", a, updated) for a in owners)
    if not is_pr and raw_state == "open" and obj.get("state_reason") == "reopened":
        rows.extend(row("issue_reopened", a, updated) for a in owners)
    return rows
