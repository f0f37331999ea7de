"""Hand a digest to the delivery guard, which holds it until each recipient's working window.

Two ways, same effect:

- ``send_http(digest, guard_url, token, ...)``: ``POST {guard_url}/messages`` with
  ``Authorization: Bearer <token>`` and JSON ``sender, recipients, subject, body,
  idempotency_key`` (or ``raw`` MIME for the HTML e-mail), against a running
  ``worklife guard serve``;
- ``send_queue(digest, queue_path, ...)``: the guard's library call ``enqueue`` on its
  SQLite queue file, for a guard on the same machine.

The idempotency key is ``digest:<team>:<week>``: sending the same week twice is answered
with the first submission's ids, so a digest never arrives twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from worklife.config import Config
from worklife.digest.build import Digest
from worklife.digest.render import DEFAULT_LIMIT, as_text, subject, to_email, to_markdown
from worklife.errors import GuardError, WorklifeError

log = logging.getLogger(__name__)


def idempotency_key(d: Digest) -> str:
    return f"digest:{d.team}:{d.week}" + (f":{d.person}" if d.person else "")


def recipients_of(d: Digest) -> list[str]:
    """The team's e-mail addresses, in the digest's order; GuardError if nobody has one."""
    out = [p.email for p in d.people if p.email and d.person in (None, p.person_id)]
    if not out:
        raise GuardError(f"nobody in team {d.team!r} has an e-mail address to deliver the digest to")
    return out


def message_payload(d: Digest, sender: str, recipients: list[str] | None = None, mime: bool = False,
                    limit: int = DEFAULT_LIMIT, full: bool = False) -> dict[str, Any]:
    """The JSON body of ``POST /messages``: Markdown text, or the HTML e-mail as ``raw`` MIME."""
    to = recipients or recipients_of(d)
    payload: dict[str, Any] = {"sender": sender, "recipients": to, "idempotency_key": idempotency_key(d)}
    if mime:
        payload["raw"] = as_text(to_email(d, sender, to, limit, full))
    else:
        payload["subject"] = subject(d)
        payload["body"] = to_markdown(d, limit, full)
    return payload


def send_http(
    d: Digest, guard_url: str, token: str, sender: str, *, recipients: list[str] | None = None,
    mime: bool = False, client: httpx.Client | None = None, timeout_s: float = 30.0, limit: int = DEFAULT_LIMIT,
    full: bool = False,
) -> dict[str, Any]:
    """POST the digest to the guard's HTTP API; return its JSON answer (ids, planned times).

    ``client`` lets tests pass an in-process transport. Raises GuardError with the
    guard's own error message on any refusal, or when the guard cannot be reached.
    """
    url = guard_url.rstrip("/") + "/messages"
    payload = message_payload(d, sender, recipients, mime, limit, full)
    headers = {"Authorization": f"Bearer {token}"}
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    try:
        resp = http.post(url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise GuardError(f"cannot reach the guard at {guard_url}: {exc}", 502) from exc
    finally:
        if own:
            http.close()
    try:
        answer = resp.json()
    except ValueError:
        answer = {"ok": False, "error": resp.text[:200]}
    if resp.status_code >= 400 or not answer.get("ok", False):
        raise GuardError(f"the guard refused the digest ({resp.status_code}): {answer.get('error', answer)}",
                         resp.status_code)
    log.info("digest %s %s handed to guard: %s", d.team, d.week, answer.get("ids"))
    return answer


Send = Callable[[dict[str, Any]], Any]


def deliver(d: Digest, send: Send, sender: str, *, recipients: list[str] | None = None, mime: bool = False,
            limit: int = DEFAULT_LIMIT, full: bool = False) -> Any:
    """Build the guard's message (``message_payload``) and hand it to ``send``; return its answer.

    ``send`` is whatever reaches a guard: ``http_sender(url, token)``, ``queue_sender(...)``
    (both below), or a test double. The digest itself never imports the guard.
    """
    return send(message_payload(d, sender, recipients, mime, limit, full))


def queue_sender(queue_path: str | Path, config: Config, *, store_path: str | Path | None, now: datetime,
                 guard: Any = None) -> Send:
    """A ``send`` that enqueues into a guard queue file (the guard's library ``enqueue``).

    ``guard`` is the module (or any object) offering ``Directory``, ``Queue`` and ``enqueue``;
    the CLI passes ``worklife.guard``.
    """
    if guard is None:
        raise WorklifeError("queue_sender needs the guard library (worklife.guard) passed as guard=")

    def send(payload: dict[str, Any]) -> list[int]:
        directory = guard.Directory.from_sources(config, store=str(store_path) if store_path else None)
        queue = guard.Queue(str(queue_path))
        try:
            return list(guard.enqueue(
                queue, payload["sender"], payload["recipients"], payload.get("subject"), payload.get("body"),
                directory=directory, now=now, idempotency_key=payload["idempotency_key"],
                raw=payload["raw"].encode("utf-8") if "raw" in payload else None,
            ))
        finally:
            close = getattr(queue, "close", None)
            if close:
                close()

    return send


def send_queue(
    d: Digest, queue_path: str | Path, sender: str, config: Config, *, store_path: str | Path | None,
    now: datetime, recipients: list[str] | None = None, mime: bool = False, limit: int = DEFAULT_LIMIT,
    full: bool = False, guard: Any,
) -> list[int]:
    """Enqueue the digest straight into a guard queue file; return the delivery ids.

    Recipients' working windows come from the people of ``store_path`` (the guard's
    ``Directory``). ``now`` is the acceptance instant (aware). ``guard``: the guard library
    (``worklife.guard``, passed by the caller: the digest never imports the guard).
    """
    send = queue_sender(queue_path, config, store_path=store_path, now=now, guard=guard)
    return deliver(d, send, sender, recipients=recipients, mime=mime, limit=limit, full=full)
