"""Render a Digest as Markdown, HTML or an RFC 5322 e-mail (.eml).

What it says is written once as blocks (worklife.digest.story) and rendered here.
No message bodies exist in the store, so none can appear.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

from worklife.digest.build import Digest
from worklife.digest.doc import to_html_fragment, to_md
from worklife.digest.story import digest_blocks

FORMATS = ("md", "html", "eml")

DEFAULT_LIMIT = 8  # items shown with links per project and section; the rest are named in one line


def subject(d: Digest) -> str:
    c = d.changes or {}
    if d.person is not None:
        name = next((p.display_name for p in d.people if p.person_id == d.person), d.person)
        return f"[worklife] your week {d.week}, {name}"
    return (f"[worklife] {d.team} digest {d.week}: {c.get('shipped', 0)} shipped, {c.get('started', 0)} started, "
            f"{c.get('blocked', 0)} blocked, {c.get('stale', 0)} stale")


def to_markdown(d: Digest, limit: int = DEFAULT_LIMIT, full: bool = False) -> str:
    """The digest as Markdown (see worklife.digest.story for what it says)."""
    return to_md(digest_blocks(d, limit, full))


def to_html(d: Digest, standalone: bool = True, limit: int = DEFAULT_LIMIT, full: bool = False) -> str:
    """The digest as HTML (escaped throughout); ``standalone=False`` gives a fragment."""
    body = to_html_fragment(digest_blocks(d, limit, full))
    if not standalone:
        return f"<div class='digest'>{body}</div>"
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(subject(d))}</title><style>body{{font-family:system-ui,sans-serif;max-width:52em;"
            "margin:2em auto;line-height:1.4}code{font-size:.9em}</style></head>"
            f"<body>{body}</body></html>\n")


# -- e-mail -----------------------------------------------------------------------------------
def to_email(d: Digest, sender: str, recipients: list[str] | None = None,
             limit: int = DEFAULT_LIMIT, full: bool = False) -> EmailMessage:
    """A multipart/alternative message (Markdown text + HTML) addressed to the team."""
    msg = EmailMessage()
    msg["Subject"] = subject(d)
    msg["From"] = sender
    people = [p for p in d.people if d.person in (None, p.person_id)]
    to = recipients if recipients is not None else [p.email for p in people if p.email]
    if to:
        msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(d.now)
    key = hashlib.sha256(f"{d.team}\x1f{d.week}\x1f{d.now.isoformat()}".encode()).hexdigest()[:20]
    msg["Message-ID"] = f"<digest.{d.week}.{key}@{sender.split('@')[-1] or 'worklife.invalid'}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(to_markdown(d, limit, full))
    msg.add_alternative(to_html(d, limit=limit, full=full), subtype="html")
    return msg


def as_text(msg: EmailMessage) -> str:
    """The message as RFC 5322 text; headers unfolded up to the 998-character line limit."""
    return msg.as_string(policy=msg.policy.clone(max_line_length=998))


def render(d: Digest, fmt: str, sender: str = "digest@worklife.invalid", limit: int = DEFAULT_LIMIT,
           full: bool = False) -> str:
    """``md``, ``html`` or ``eml`` as text; ``limit`` items with links per section unless ``full``."""
    renderers: dict[str, Callable[[], str]] = {
        "md": lambda: to_markdown(d, limit, full),
        "html": lambda: to_html(d, limit=limit, full=full),
        "eml": lambda: as_text(to_email(d, sender, limit=limit, full=full)),
    }
    if fmt not in renderers:
        raise ValueError(f"unknown digest format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return renderers[fmt]()
