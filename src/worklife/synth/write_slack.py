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
from datetime import datetime, timezone
from pathlib import Path

BOT = {"id": "U0000000", "name": "synthbot", "real_name": "synthbot", "deleted": False,
       "is_bot": True, "team_id": "T0000001", "profile": {"bot_id": "B0000001", "real_name": "synthbot"}}


def _dump(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_slack(org, out: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the export under ``out``; returns the number of canonical chat messages."""
    out.mkdir(parents=True, exist_ok=True)
    ppl = org.people
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
    created = int(datetime(org.start.year, org.start.month, org.start.day, tzinfo=timezone.utc).timestamp()) - 7 * 86400
    ch = org.channels
    folder, lists = {}, {"channel": [], "mpim": [], "dm": []}
    for cid, name, kind, members in ch[["conv_id", "name", "kind", "members"]].itertuples(index=False):
        ids = [slack[m] for m in members]
        if kind == "channel":
            lists["channel"].append({"id": cid, "name": name, "created": created, "creator": ids[0],
                                     "is_archived": False, "is_general": name == "general",
                                     "members": ids, "topic": {"value": ""}, "purpose": {"value": ""}})
            folder[cid] = name
        elif kind == "mpim":
            lists["mpim"].append({"id": cid, "name": name, "created": created, "creator": ids[0],
                                  "is_archived": False, "members": ids})
            folder[cid] = name
        else:
            lists["dm"].append({"id": cid, "created": created, "members": ids})
            folder[cid] = cid
    _dump(out / "channels.json", lists["channel"])
    _dump(out / "groups.json", [])
    _dump(out / "mpims.json", lists["mpim"])
    _dump(out / "dms.json", lists["dm"])
    chat = org.messages.loc[org.messages["channel"] == "chat"]
    replies = defaultdict(list)
    for ts, tts, snd in zip(chat["ts"].tolist(), chat["thread_ts"].tolist(), chat["sender_id"].tolist()):
        if isinstance(tts, str) and tts != ts:
            replies[tts].append((ts, snd))
    days: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for c in lists["channel"]:
        day = datetime.fromtimestamp(created, timezone.utc).strftime("%Y-%m-%d")
        for i, u in enumerate(c["members"]):
            days[(c["id"], day)].append({"type": "message", "subtype": "channel_join", "user": u,
                                         "text": f"<@{u}> has joined the channel",
                                         "ts": f"{created + 32400 + i}.000000"})
    cols = [chat[c].tolist() for c in ("conv_id", "ts", "sender_id", "text", "thread_ts", "is_auto", "sent_utc")]
    parent_user = {ts: snd for ts, snd in zip(chat["ts"].tolist(), chat["sender_id"].tolist())}
    n = 0
    for cid, ts, snd, text, tts, auto, t in zip(*cols):
        if auto:
            msg = {"type": "message", "subtype": "bot_message", "bot_id": "B0000001",
                   "username": "synthbot", "text": text, "ts": ts}
        else:
            msg = {"type": "message", "user": slack[snd], "text": text, "ts": ts}
        if isinstance(tts, str):
            msg["thread_ts"] = tts
            if tts == ts:
                msg["reply_count"] = len(replies[ts])
                msg["replies"] = [{"user": slack[s], "ts": r} for r, s in replies[ts]]
            else:
                msg["parent_user_id"] = slack.get(parent_user.get(tts), None)
        day = datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%d")
        days[(cid, day)].append(msg)
        n += 1
    for (cid, day), msgs in sorted(days.items()):
        d = out / folder[cid]
        d.mkdir(exist_ok=True)
        _dump(d / f"{day}.json", sorted(msgs, key=lambda m: m["ts"]))
        if progress:
            progress(sum(1 for m in msgs if m.get("subtype") != "channel_join"))
    return n
