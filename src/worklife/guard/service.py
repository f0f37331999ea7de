"""What the SMTP and HTTP fronts share: one object holding queue, directory, policy,
clock and tokens, with the operations both expose (submit, status, recall, urgent).

Identity: an address is reduced to one *identity* (``identity``): lower-cased, a tokens
file alias replaced by its sender, and a person listed in the directory (by e-mail,
person_id or alias) reduced to that person's e-mail. Two addresses are the same author
when their identities are equal; messages, ownership and the urgent allowance are keyed
by the identity of the authenticated sender, never by the text a client typed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from worklife.errors import GuardError
from worklife.guard.audit import audit
from worklife.guard.auth import AuthThrottle, Tokens
from worklife.guard.clock import Clock, from_ms, to_ms
from worklife.guard.directory import Directory
from worklife.guard.intake import GuardPolicy, prepare, store
from worklife.guard.queue import Queue
from worklife.guard.schedule import local_iso

log = logging.getLogger(__name__)

URGENT_REASONS = ("emergency", "force_majeure", "on_call")


@dataclass
class GuardService:
    """The guard's state for one process. ``wake`` (optional) nudges the delivery worker."""

    queue: Queue
    directory: Directory
    policy: GuardPolicy
    clock: Clock
    tokens: Tokens = field(default_factory=Tokens)
    networks: list = field(default_factory=list)
    wake: Any = None
    throttle: AuthThrottle | None = None

    def __post_init__(self) -> None:
        if self.throttle is None:
            self.throttle = AuthThrottle(self.policy.auth_failure_delay_seconds, self.policy.auth_max_failures)

    def identity(self, address: str) -> str:
        """The identity an address stands for (see the module docstring)."""
        key = address.strip().strip("<>").lower()
        key = self.tokens.aliases.get(key, key)
        person = self.directory.listed(key)
        return person.address.lower() if person is not None and person.address else key

    def may_send_as(self, who: str, address: str) -> bool:
        """True when ``address`` is the authenticated sender ``who`` or one of its aliases."""
        return self.identity(address) == self.identity(who)

    def _nudge(self) -> None:
        if self.wake is not None:
            self.wake.set()

    async def submit(self, sender: str, recipients: list[str], *, raw: bytes | None = None,
                     subject: str | None = None, body: str | None = None,
                     idempotency_key: str | None = None, via: str = "http",
                     who: str | None = None) -> tuple[list[dict], bool]:
        """Plan and store a message; returns (deliveries, replayed) once committed.

        ``who`` is the authenticated sender: From:/Sender: must then be it or an alias
        (GuardError 403), and the message belongs to its identity.
        """
        now = self.clock.now()
        may_author = (lambda a: self.may_send_as(who, a)) if who is not None else None
        prepared = prepare(self.directory, self.policy, sender, recipients, now, raw=raw,
                           subject=subject, body=body, may_author=may_author)
        owner = self.identity(who or prepared.sender)
        ids, replayed = await asyncio.wrap_future(
            store(self.queue, prepared, now, idempotency_key, via, identity=owner))
        if replayed:
            return [self.describe(i) for i in ids], True
        if any(r.due_ms <= to_ms(now) for r in prepared.rows):
            self._nudge()
        # Just committed as planned: answer from the plan, without reading the rows back.
        return [_view({"id": i, "state": "held", "sender": sender, "recipient": r.recipient, "mode": r.mode,
                       "tz": r.tz, "attempts": 0, "due_ms": r.due_ms, "window_ms": r.window_ms,
                       "delivered_ms": None, "last_error": None, "urgent_reason": None})
                for i, r in zip(ids, prepared.rows, strict=True)], False

    def describe(self, delivery_id: int) -> dict[str, Any]:
        """Public view of one delivery: state, planned instant in UTC and recipient-local time."""
        row = self.queue.get(delivery_id)
        if row is None:
            raise GuardError(f"no message {delivery_id}", 404)
        return _view(row)

    def owned(self, delivery_id: int, sender: str | None) -> dict[str, Any]:
        """``describe`` after checking that ``sender`` (None: the operator) owns the delivery."""
        row = self.queue.get(delivery_id)
        if row is None:
            raise GuardError(f"no message {delivery_id}", 404)
        owner = row.get("identity") or row["sender"].lower()
        if sender is not None and owner != self.identity(sender):
            raise GuardError(f"no message {delivery_id}", 404)  # do not reveal others' ids
        return _view(row)

    def recall(self, delivery_id: int, sender: str | None) -> dict[str, Any]:
        view = self.owned(delivery_id, sender)
        if not self.queue.recall(delivery_id, to_ms(self.clock.now())):
            raise GuardError(f"message {delivery_id} is {view['state']}, only a held message can be recalled", 409)
        return self.describe(delivery_id)

    def urgent(self, delivery_id: int, sender: str | None, reason: str, text: str) -> dict[str, Any]:
        """Release a held delivery now with a logged reason.

        ``sender`` is the authenticated sender (None: the operator). A sender's releases are
        counted against its identity, at most ``guard.urgent_per_sender_per_day`` in any
        24 hours; the operator is not limited but audited the same way.
        """
        if reason not in URGENT_REASONS:
            raise GuardError(f"reason must be one of {', '.join(URGENT_REASONS)}, not {reason!r}", 422)
        if not text or not text.strip():
            raise GuardError("an urgent release needs a text saying why", 422)
        view = self.owned(delivery_id, sender)
        owner = self.queue.get(delivery_id)["identity"] or view["sender"].lower()
        actor = "operator" if sender is None else self.identity(sender)
        limit = None if sender is None else self.policy.urgent_per_sender_per_day
        now_ms = to_ms(self.clock.now())
        outcome = self.queue.release_urgent(delivery_id, view["sender"], reason, text.strip(), now_ms, limit,
                                            identity=owner, actor=actor)
        audit("urgent_release" if outcome == "released" else f"urgent_{outcome}", delivery_id=delivery_id,
              identity=owner, actor=actor, reason=reason, text=text.strip(), at_ms=now_ms)
        if outcome == "rate_limited":
            raise GuardError(f"{owner} has used the {self.policy.urgent_per_sender_per_day} urgent "
                             "releases allowed per day (guard.urgent_per_sender_per_day)", 429)
        if outcome == "not_held":
            raise GuardError(f"message {delivery_id} is {view['state']}, only a held message can be released", 409)
        self._nudge()
        return self.describe(delivery_id)

    def overview(self, state: str | None, limit: int) -> dict[str, Any]:
        """The operator's view: counts per state, next due instant, and the listed deliveries."""
        nxt = self.queue.next_due_ms()
        return {
            "counts": self.queue.counts(),
            "next_due_utc": _iso(from_ms(nxt)) if nxt is not None else None,
            "items": [self.describe(r["id"]) for r in self.queue.deliveries(state, limit)],
        }


def _view(row: dict[str, Any]) -> dict[str, Any]:
    due = from_ms(row["due_ms"])
    out = {
        "id": row["id"], "state": row["state"], "sender": row["sender"], "recipient": row["recipient"],
        "mode": row["mode"], "tz": row["tz"], "attempts": row["attempts"],
        "planned_utc": _iso(due), "planned_local": local_iso(due, row["tz"]),
        "delivered_utc": _iso(from_ms(row["delivered_ms"])) if row["delivered_ms"] else None,
        "last_error": row["last_error"], "urgent_reason": row["urgent_reason"],
    }
    if row["mode"] == "deliver_now":
        out["reply_not_expected_before_local"] = local_iso(from_ms(row["window_ms"]), row["tz"])
    return out


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")
