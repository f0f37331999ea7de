"""The async status digest: what a team shipped, moved, and is blocked on, from outcomes.

Library surface (``worklife digest`` is a thin layer on it)::

    build_digest(store, config, team, week, now) -> Digest      # facts, per person and team
    render(digest, "md" | "html" | "eml", sender=...) -> str
    send_http(digest, guard_url, token, sender) -> dict          # via the guard's HTTP API
    send_queue(digest, queue_path, sender, config, store_path=, now=, guard=worklife.guard) -> list[int]
    deliver(digest, send, sender) -> answer                       # any send function (queue_sender, a double)
    webhook.payload(digest, "slack"|"mattermost"|"teams"|"teams-messagecard") -> dict
    webhook.post(url, body, send=, sleep=) -> attempts            # retries 429/5xx, Retry-After
    webhook.planned_post(now, monday, zone, post_at, schedules) -> datetime
    estimate_savings(store, config, team=None) -> list[TeamSavings]

The savings are drawn by ``worklife.report.savings_section`` (the report renders).
"""

from worklife.digest.build import CommitGroup, Digest, Fact, PersonDigest, build_digest, parse_week
from worklife.digest.deliver import (
    deliver,
    idempotency_key,
    message_payload,
    queue_sender,
    send_http,
    send_queue,
)
from worklife.digest.numbers import Numbers
from worklife.digest.render import FORMATS, render, subject, to_email, to_html, to_markdown
from worklife.digest.savings import (
    StatusSeries,
    TeamSavings,
    estimate_savings,
)

__all__ = [
    "FORMATS",
    "CommitGroup",
    "Digest",
    "Fact",
    "Numbers",
    "PersonDigest",
    "StatusSeries",
    "TeamSavings",
    "build_digest",
    "deliver",
    "estimate_savings",
    "idempotency_key",
    "message_payload",
    "parse_week",
    "queue_sender",
    "render",
    "send_http",
    "send_queue",
    "subject",
    "to_email",
    "to_html",
    "to_markdown",
]
