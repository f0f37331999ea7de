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

import numpy as np
import pandas as pd

BOT = {"id": "U0000000", "name": "synthbot", "real_name": "synthbot", "deleted": False,
       "is_bot": True, "team_id": "T0000001", "profile": {"bot_id": "B0000001", "real_name": "synthbot"}}


def _dump(path: Path, data) -> None:
    # compact JSON: only the C encoder is fast enough for millions of messages
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


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
    replies = defaultdict(list)  # (conversation, thread_ts) -> [(ts, sender)]
    threaded = chat.loc[chat["thread_ts"].notna() & (chat["thread_ts"] != chat["ts"])].sort_values("sent_utc")
    for cid, ts, tts, snd in zip(threaded["conv_id"].tolist(), threaded["ts"].tolist(),
                                 threaded["thread_ts"].tolist(), threaded["sender_id"].tolist()):
        replies[(cid, tts)].append((ts, snd))
    # channel_join messages, one day before the data starts (export noise, not canonical)
    join_day = datetime.fromtimestamp(created, timezone.utc).strftime("%Y-%m-%d")
    join_files: dict[tuple[str, str], list[dict]] = {}
    for c in lists["channel"]:
        joins = [{"type": "message", "subtype": "channel_join", "user": u, "text": f"<@{u}> has joined the channel",
                  "ts": f"{created + 32400 + i}.000000"} for i, u in enumerate(c["members"])]
        d = out / folder[c["id"]]
        d.mkdir(exist_ok=True)
        _dump(d / f"{join_day}.json", joins)
        join_files[(c["id"], join_day)] = joins
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
        path = d / f"{key[1]}.json"
        if key in join_files:  # the day the members joined
            batch = join_files[key] + batch
        _dump(path, batch)
        if progress:
            progress(len(batch) - len(join_files.get(key, ())))

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
