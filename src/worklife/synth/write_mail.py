"""The org's e-mail as one journal Maildir (``mail/cur``) or one mbox per ISO week.

Each message is written once, headers plus a one-line synthetic body: Message-ID, Date
(RFC 2822, in the sender's local offset), From, To, Cc, Bcc (a journal keeps Bcc),
Subject, In-Reply-To, References and, for auto-replies, ``Auto-Submitted: auto-replied``.
File names are deterministic (``<sent_utc>.M<n>P0Q0.synth:2,S``), so the same seed gives
the same bytes.
"""

from __future__ import annotations

import time

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

BODY = "This is a synthetic message written by worklife synth. It contains no real data.\n"


def _addr(pid: str, names: dict) -> str:
    return f'"{names.get(pid, pid)}" <{pid}>'


def render(org) -> Iterator[tuple[int, str, bytes]]:
    """(sent_utc, ISO week of sent_utc in UTC, RFC 5322 bytes) of every e-mail, in time order."""
    people = org.people
    names = dict(zip(people["person_id"], people["display_name"]))
    tzs = {p: (tz if isinstance(tz, str) and tz else "UTC") for p, tz in zip(people["person_id"], people["tz"])}
    mail = org.messages.loc[org.messages["channel"] == "email"]
    # recipients grouped by message, in the order of ``mail`` (no per-message dict: 10k x 52 is large)
    rec = org.message_recipients
    codes = pd.Index(mail["message_key"]).get_indexer(rec["message_key"])
    rec, codes = rec.loc[codes >= 0], codes[codes >= 0]
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    r_pid = rec["person_id"].to_numpy()[order].tolist()
    r_kind = rec["kind"].to_numpy()[order].tolist()
    bounds = np.searchsorted(codes, np.arange(len(mail) + 1)).tolist()
    zones: dict[str, ZoneInfo] = {}
    weeks: dict[int, str] = {}
    cols = [mail[c].tolist() for c in ("message_id", "sender_id", "sent_utc", "subject_or_channel",
                                         "in_reply_to", "references", "is_auto")]
    for i, (mid, snd, t, subj, irt, refs, auto) in enumerate(zip(*cols)):
        mine = list(zip(r_kind[bounds[i]:bounds[i + 1]], r_pid[bounds[i]:bounds[i + 1]]))
        tz = tzs.get(snd, "UTC")
        zone = zones.setdefault(tz, ZoneInfo(tz))
        when = datetime.fromtimestamp(int(t), timezone.utc).astimezone(zone)
        lines = [f"Message-ID: <{mid}>", f"Date: {format_datetime(when)}", f"From: {_addr(snd, names)}"]
        for kind, header in (("to", "To"), ("cc", "Cc"), ("bcc", "Bcc")):
            who = [p for k, p in mine if k == kind]
            if who:
                lines.append(f"{header}: " + ",\n ".join(_addr(p, names) for p in who))
        lines.append(f"Subject: {subj}")
        if isinstance(irt, str) and irt:
            lines.append(f"In-Reply-To: <{irt}>")
        if isinstance(refs, str) and refs:
            lines.append(f"References: {refs}")
        if auto:
            lines.append("Auto-Submitted: auto-replied")
        lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                  "Content-Transfer-Encoding: 7bit", "", BODY]
        day = int(t) // 86400
        if day not in weeks:
            y, w, _ = datetime.fromtimestamp(day * 86400, timezone.utc).isocalendar()
            weeks[day] = f"{y}-W{w:02d}"
        yield int(t), weeks[day], "\n".join(lines).encode("utf-8")


def write_maildir(org, out: Path, progress: Callable[[int], None] | None = None, first: int = 0) -> int:
    """One journal Maildir: every message once, in ``cur/`` (seen). Returns the count.

    File names number messages from ``first + 1`` (a divisioned org continues the count).
    """
    for sub in ("cur", "new", "tmp"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    n = 0
    for t, _, data in render(org):
        n += 1
        (out / "cur" / f"{t}.M{first + n}P0Q0.synth:2,S").write_bytes(data)
        if progress and n % 1000 == 0:
            progress(1000)
    if progress:
        progress(n % 1000)
    return n


def write_mbox(org, out: Path, progress: Callable[[int], None] | None = None, first: int = 0) -> int:
    """One mbox per ISO week (UTC) of the send date: ``mail/2025-W10.mbox``, appended to
    (a divisioned org appends division by division; ``first`` is unused)."""
    out.mkdir(parents=True, exist_ok=True)
    n, handle, current = 0, None, None
    try:
        for t, week, data in render(org):
            if week != current:
                if handle:
                    handle.close()
                handle, current = open(out / f"{week}.mbox", "ab"), week
            stamp = time.asctime(time.gmtime(t))  # 'Mon Mar  3 09:12:33 2025', the mbox From_ form
            handle.write(b"From MAILER-DAEMON " + stamp.encode() + b"\n" + data + b"\n")
            n += 1
            if progress and n % 1000 == 0:
                progress(1000)
    finally:
        if handle:
            handle.close()
    if progress:
        progress(n % 1000)
    return n
