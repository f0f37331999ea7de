"""A tiny document model for the digest, and its renderers: Markdown, HTML, Slack mrkdwn.

The digest is written once as blocks (headings, paragraphs, bullet lists whose lines are
spans of text, links and code) and rendered per target, each escaping its own way:
Markdown (``[t](u)``, brackets escaped), HTML (everything escaped), Slack mrkdwn
(``<url|text>``, only ``& < >`` escaped, per Slack's formatting reference).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Text (whitespace folded to single spaces), an optional http(s) link, a style."""

    text: str
    url: str | None = None
    style: str = ""  # "", "code", "bold"

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(self.text.split()) if "\n" in self.text or "\r" in self.text
                           or "\t" in self.text else self.text)
        object.__setattr__(self, "url", safe_url(self.url))


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) address without spaces or control characters, else None.

    Links come from exports; a ``javascript:`` or ``data:`` link must never reach a page or a chat.
    """
    if not url:
        return None
    u = url.strip()
    if not u.lower().startswith(("https://", "http://")) or any(c.isspace() or ord(c) < 32 for c in u):
        return None
    return u


Line = list[Span]


@dataclass
class Block:
    kind: str  # h1, h2, h3, p, ul
    lines: list[tuple[int, Line]] = field(default_factory=list)  # (indent level, spans); one for h/p


def text(s: str) -> Span:
    return Span(s)


def heading(level: int, s: str) -> Block:
    return Block(f"h{level}", [(0, [Span(s)])])


def para(*spans: Span | str) -> Block:
    return Block("p", [(0, [s if isinstance(s, Span) else Span(s) for s in spans])])


def plain(line: Line) -> str:
    return "".join(s.text for s in line)


# -- Markdown -----------------------------------------------------------------------------
def _md_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")


def _md_span(s: Span) -> str:
    if s.style == "code":
        code = f"`{s.text.replace('`', chr(39))}`"
        return f"[{code}]({s.url.replace(')', '%29').replace(' ', '%20')})" if s.url else code
    body = _md_escape(s.text)
    if s.url:
        body = f"[{body}]({s.url.replace(')', '%29').replace(' ', '%20')})"
    return f"**{body}**" if s.style == "bold" else body


def to_md(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind.startswith("h"):
            out += ["#" * int(b.kind[1]) + " " + plain(b.lines[0][1]), ""]
        elif b.kind == "p":
            out += ["".join(_md_span(s) for s in b.lines[0][1]), ""]
        else:
            out += ["  " * lvl + "- " + "".join(_md_span(s) for s in line) for lvl, line in b.lines]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- HTML ---------------------------------------------------------------------------------
def _h(s: str) -> str:
    return html.escape(s, quote=True)


def _html_span(s: Span) -> str:
    body = f"<code>{_h(s.text)}</code>" if s.style == "code" else _h(s.text)
    if s.url:
        body = f'<a href="{_h(s.url)}">{body}</a>'
    return f"<strong>{body}</strong>" if s.style == "bold" else body


def to_html_fragment(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind.startswith("h"):
            out.append(f"<{b.kind}>{_h(plain(b.lines[0][1]))}</{b.kind}>")
        elif b.kind == "p":
            out.append(f"<p>{''.join(_html_span(s) for s in b.lines[0][1])}</p>")
        else:
            out.append(_html_list(b.lines))
    return "".join(out)


def _html_list(lines: list[tuple[int, Line]]) -> str:
    out, depth = ["<ul>"], 0
    for i, (lvl, line) in enumerate(lines):
        while depth < lvl:
            out.append("<ul>")
            depth += 1
        while depth > lvl:
            out.append("</ul></li>")
            depth -= 1
        nxt = lines[i + 1][0] if i + 1 < len(lines) else 0
        close = "" if nxt > lvl else "</li>"
        out.append(f"<li>{''.join(_html_span(s) for s in line)}{close}")
    while depth > 0:
        out.append("</ul></li>")
        depth -= 1
    out.append("</ul>")
    return "".join(out)


# -- Slack mrkdwn ---------------------------------------------------------------------------
def slack_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_span(s: Span) -> str:
    if s.style == "code":
        return f"`{slack_escape(s.text).replace('`', chr(39))}`"
    body = slack_escape(s.text)
    if s.url:
        body = f"<{s.url.replace('|', '%7C').replace('>', '%3E')}|{body.replace('|', '/')}>"
    return f"*{body}*" if s.style == "bold" else body


def slack_lines(b: Block) -> list[str]:
    """A block as mrkdwn lines (headings bold, lists with bullets and indentation)."""
    if b.kind.startswith("h"):
        return [f"*{slack_escape(plain(b.lines[0][1]))}*"]
    if b.kind == "p":
        return ["".join(_slack_span(s) for s in b.lines[0][1])]
    return [("    " * lvl) + ("• " if lvl == 0 else "◦ ") + "".join(_slack_span(s) for s in line)
            for lvl, line in b.lines]
