"""A standard Slack workspace export: users.json, channels.json, dms.json, mpims.json,
groups.json and one folder per conversation with one ``YYYY-MM-DD.json`` per UTC day.

Channels are named folders, MPIMs use their ``mpdm-...`` name, DMs their id. Messages
carry ``ts`` (``<utc seconds>.000000``, unique per conversation), ``user``, ``text``,
``thread_ts``/``reply_count``/``parent_user_id`` for threads; #general holds the bot's
weekly posts (``subtype: bot_message``) and every channel starts with ``channel_join``
messages a week before the data (not canonical messages).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

BOT = {"id": "U0000000", "name": "synthbot", "real_name": "synthbot", "deleted": False,
       "is_bot": True, "team_id": "T0000001", "profile": {"bot_id": "B0000001", "real_name": "synthbot"}}


def _dump(path: Path, data) -> None:
    # compact JSON: only the C encoder is fast enough for millions of messages
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write_slack(org, out: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the export of one Org under ``out``; returns the number of canonical chat messages."""
    n = slack_messages(org, out, progress)
    slack_meta(org.people, org.channels, org.start, out)
    return n


def _created(start: date) -> int:
    return int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp()) - 7 * 86400


def slack_meta(ppl: pd.DataFrame, ch: pd.DataFrame, start: date, out: Path) -> None:
    """users.json, channels.json, groups.json, mpims.json, dms.json and the ``channel_join``
    files, for every person and conversation of the org (a divisioned org: all divisions'
    ``people`` and ``channels``, written after the messages)."""
    out.mkdir(parents=True, exist_ok=True)
    slack = dict(zip(ppl["person_id"], ppl["slack_id"]))
    users = []
    for r in ppl.to_dict("records"):
        u = {"id": r["slack_id"], "team_id": "T0000001", "name": r["person_id"].split("@")[0],
             "real_name": r["display_name"], "deleted": False, "is_bot": False,
             "profile": {"email": r["email"], "real_name": r["display_name"],
                         "display_name": r["display_name"]}}
        if isinstance(r["tz"], str) and r["tz"]:
            u["tz"] = r["tz"]
        users.append(u)
    _dump(out / "users.json", users + [BOT])
    created = _created(start)
    lists: dict[str, list] = {"channel": [], "mpim": [], "dm": []}
    for cid, name, kind, members in ch[["conv_id", "name", "kind", "members"]].itertuples(index=False):
        ids = [slack[m] for m in members]
        if kind == "channel":
            lists["channel"].append({"id": cid, "name": name, "created": created, "creator": ids[0],
                                     "is_archived": False, "is_general": name == "general",
                                     "members": ids, "topic": {"value": ""}, "purpose": {"value": ""}})
        elif kind == "mpim":
            lists["mpim"].append({"id": cid, "name": name, "created": created, "creator": ids[0],
                                  "is_archived": False, "members": ids})
        else:
            lists["dm"].append({"id": cid, "created": created, "members": ids})
    _dump(out / "channels.json", lists["channel"])
    _dump(out / "groups.json", [])
    _dump(out / "mpims.json", lists["mpim"])
    _dump(out / "dms.json", lists["dm"])
    # channel_join messages, a week before the data starts (export noise, not canonical);
    # a day file the messages already wrote (none in practice) keeps its messages after them
    join_day = datetime.fromtimestamp(created, timezone.utc).strftime("%Y-%m-%d")
    for c in lists["channel"]:
        joins = [{"type": "message", "subtype": "channel_join", "user": u, "text": f"<@{u}> has joined the channel",
                  "ts": f"{created + 32400 + i}.000000"} for i, u in enumerate(c["members"])]
        d = out / c["name"]
        d.mkdir(exist_ok=True)
        path = d / f"{join_day}.json"
        _dump(path, joins + (json.loads(path.read_text(encoding="utf-8")) if path.exists() else []))


def slack_messages(org, out: Path, progress: Callable[[int], None] | None = None) -> int:
    """One folder per conversation of ``org`` with one ``YYYY-MM-DD.json`` per UTC day;
    returns the number of canonical chat messages."""
    out.mkdir(parents=True, exist_ok=True)
    ppl = org.people
    slack = dict(zip(ppl["person_id"], ppl["slack_id"]))
    folder = {cid: (name if kind != "dm" else cid)
              for cid, name, kind in org.channels[["conv_id", "name", "kind"]].itertuples(index=False)}
    chat = org.messages.loc[org.messages["channel"] == "chat"]
    replies = defaultdict(list)  # (conversation, thread_ts) -> [(ts, sender)]
    threaded = chat.loc[chat["thread_ts"].notna() & (chat["thread_ts"] != chat["ts"])].sort_values("sent_utc")
    for cid, ts, tts, snd in zip(threaded["conv_id"].tolist(), threaded["ts"].tolist(),
                                 threaded["thread_ts"].tolist(), threaded["sender_id"].tolist()):
        replies[(cid, tts)].append((ts, snd))
    # messages streamed by (conversation, UTC day): one file written per group
    day = pd.to_datetime(chat["sent_utc"], unit="s").dt.strftime("%Y-%m-%d")
    frame = pd.DataFrame({"conv": chat["conv_id"].to_numpy(), "day": day.to_numpy(), "ts": chat["ts"].to_numpy(),
                          "_i": np.arange(len(chat))}).sort_values(["conv", "day", "ts"], kind="stable")
    cols = [chat[c].to_numpy(dtype=object) for c in ("ts", "sender_id", "text", "thread_ts", "is_auto")]
    n = 0
    batch: list[dict] = []
    key = None

    made: set[str] = set()

    def flush(key, batch) -> None:
        d = out / folder[key[0]]
        if key[0] not in made:
            d.mkdir(exist_ok=True)
            made.add(key[0])
        _dump(d / f"{key[1]}.json", batch)
        if progress:
            progress(len(batch))

    roots = {}
    for cid, dd, i in zip(frame["conv"].tolist(), frame["day"].tolist(), frame["_i"].tolist()):
        if (cid, dd) != key:
            if batch:
                flush(key, batch)
            key, batch = (cid, dd), []
        ts, snd, text, tts, auto = (c[i] for c in cols)
        if auto:
            msg = {"type": "message", "subtype": "bot_message", "bot_id": "B0000001",
                   "username": "synthbot", "text": text, "ts": ts}
        else:
            msg = {"type": "message", "user": slack[snd], "text": text, "ts": ts}
        if isinstance(tts, str):
            msg["thread_ts"] = tts
            if tts == ts:
                reps = replies.get((cid, ts), [])
                msg["reply_count"] = len(reps)
                msg["replies"] = [{"user": slack[s], "ts": r} for r, s in reps]
                roots[(cid, ts)] = snd
            else:
                msg["parent_user_id"] = slack.get(roots.get((cid, tts)))
        batch.append(msg)
        n += 1
    if batch:
        flush(key, batch)
    return n
