"""Slack-style chat: team channels, one MPIM per team, DMs, #general bot posts; and commits.

Conversations are indexed: team channels 0..T-1, #general T, team MPIMs T+1..2T, then
DMs in order of first use. A session is 1-10 messages 20 s - 7 min apart; in channels
35 % of sessions are threads (the first message is the root).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worklife.synth.messages import CHAT_TEXTS, Chat, Traffic, int_array


@dataclass
class Convs:
    kind: list[str]          # channel, dm, mpim
    name: list[str]
    members: list[tuple[int, ...]]


def team_convs(traffic: Traffic, names: list[str]) -> Convs:
    r = traffic.r
    T = len(r.team_size)
    kind, name, members = [], [], []
    for t in range(T):
        s, n = int(r.team_start[t]), int(r.team_size[t])
        kind.append("channel")
        name.append("team-" + names[t].lower().replace(" ", "-"))
        members.append(tuple(range(s, s + n)))
    kind.append("channel")
    name.append("general")
    members.append(tuple(range(len(r.ids))))
    for t in range(T):
        s = int(r.team_start[t])
        kind.append("mpim")
        members.append((s, s + 1, s + 2))
        name.append("mpdm-" + "--".join(str(r.ids[p]).split("@")[0] for p in (s, s + 1, s + 2)) + "-1")
    return Convs(kind, name, members)


def chat(traffic: Traffic, convs: Convs, extra: list[dict]) -> tuple[Chat, Convs]:
    """Background chat sessions plus planted ``extra`` DM blocks (sender, sent, to, tag)."""
    r, rng, c = traffic.r, traffic.rng, traffic.c
    T = len(r.team_size)
    owner, start = traffic.draw_times(1.3)
    e_owner, e_start = traffic.evening(0.25, 1, 1, width=3000)  # + <= 9 x 7 min < 2 h
    s_owner = np.concatenate([owner, e_owner])
    s_start = np.concatenate([start, e_start])
    evening = np.concatenate([np.zeros(len(owner), bool), np.ones(len(e_owner), bool)])
    ns = len(s_owner)
    u = rng.random(ns)
    ctype = np.where(u < 0.55, 0, np.where(u < 0.93, 1, 2))  # channel, dm, mpim
    ctype[evening] = 1
    t = r.team[s_owner]
    in_mpim = (s_owner - r.team_start[t]) < 3
    ctype[(ctype == 2) & ~in_mpim] = 0
    partner = traffic.pick(s_owner)
    nmsg = 1 + np.minimum(rng.poisson(np.where(evening, 1.0, 2.5)), 9)
    thread = (ctype == 0) & (rng.random(ns) < 0.35) & (nmsg > 1)
    # expand sessions to messages
    sess = np.repeat(np.arange(ns), nmsg)
    first = np.concatenate([[0], np.cumsum(nmsg)[:-1]])
    pos = np.arange(len(sess)) - first[sess]
    gaps = rng.integers(20, 420, size=len(sess))
    gaps[pos == 0] = 0
    cum = np.cumsum(gaps)
    sent = s_start[sess] + cum - cum[first[sess]]
    answer = (pos > 0) & (rng.random(len(sess)) < 0.4) & ~evening[sess]
    # who answers: DM partner, or a teammate in channels / MPIMs
    mate = np.where(ctype[sess] == 1, partner[sess], traffic.pick(s_owner[sess], cross=0.0))
    mp = T + 1 + t[sess]
    off = s_owner[sess] - r.team_start[t[sess]]
    mpim_mate = r.team_start[t[sess]] + (off + 1 + (rng.random(len(sess)) < 0.5)) % 3
    mate = np.where(ctype[sess] == 2, mpim_mate, mate)
    sender = np.where(answer, mate, s_owner[sess])
    keep = ~answer | traffic.fits(sender, sent)
    # conversation index
    conv = np.where(ctype[sess] == 0, t[sess], mp)
    a, b = np.minimum(s_owner[sess], partner[sess]), np.maximum(s_owner[sess], partner[sess])
    pair = a * (len(r.ids) + 1) + b
    root_local = np.where(thread[sess] & (pos > 0), first[sess], -1)
    text = rng.integers(0, len(CHAT_TEXTS), size=len(sess))
    # planted DMs
    tags = np.zeros(len(sess), np.int64)
    dm_pair = np.where(ctype[sess] == 1, pair, -1)
    to_other = np.where(ctype[sess] == 1, np.where(sender == a, b, a), -1)
    blocks_s, blocks_t, blocks_to, blocks_tag = [sender], [sent], [to_other], [tags]
    for blk in extra:
        s_, t_, o_ = int_array(blk["sender"]), int_array(blk["sent"]), int_array(blk["to"])
        blocks_s.append(s_)
        blocks_t.append(t_)
        blocks_to.append(o_)
        blocks_tag.append(np.full(len(s_), blk["tag"]))
        dm_pair = np.concatenate([dm_pair, np.minimum(s_, o_) * (len(r.ids) + 1) + np.maximum(s_, o_)])
        conv = np.concatenate([conv, np.full(len(s_), -1)])
        root_local = np.concatenate([root_local, np.full(len(s_), -1)])
        text = np.concatenate([text, rng.integers(0, len(CHAT_TEXTS), size=len(s_))])
        keep = np.concatenate([keep, np.ones(len(s_), bool)])
    sender, sent = np.concatenate(blocks_s), np.concatenate(blocks_t)
    to_other, tags = np.concatenate(blocks_to), np.concatenate(blocks_tag)
    # DMs get conversation indexes in order of the pair key
    is_dm = dm_pair >= 0
    pairs, inv = np.unique(dm_pair[is_dm], return_inverse=True)
    base = len(convs.kind)
    conv[is_dm] = base + inv
    for key in pairs:
        x, y = divmod(int(key), len(r.ids) + 1)
        convs.kind.append("dm")
        convs.name.append("")
        convs.members.append((x, y))
    # a manager must not reach a report at night (background only)
    night = np.zeros(len(sender), bool)
    night[is_dm] = traffic.night_for_report(sender[is_dm], to_other[is_dm], sent[is_dm])
    is_mgr = np.zeros(len(r.ids) + 1, bool)
    is_mgr[r.team_start] = True
    rows = np.nonzero(~is_dm & is_mgr[sender] & (conv != T))[0]
    rows = rows[np.argsort(conv[rows], kind="stable")]
    cuts = np.searchsorted(conv[rows], np.unique(conv[rows]))
    for sub in np.split(rows, cuts[1:]):
        if not len(sub):
            continue
        for p in convs.members[int(conv[sub[0]])]:
            mine = sub[r.manager[p] == sender[sub]]
            if len(mine):
                night[mine] |= traffic.night_for_report(sender[mine], np.full(len(mine), p), sent[mine])
    keep &= ~(night & (tags == 0))
    # a thread reply whose root was dropped is dropped too
    has = root_local >= 0
    keep[has] &= keep[root_local[has]]
    newidx = np.cumsum(keep) - 1
    root = np.where(root_local >= 0, newidx[np.maximum(root_local, 0)], -1)[keep]
    sender, sent, conv, text, tags = sender[keep], sent[keep], conv[keep], text[keep], tags[keep]
    # #general: one bot post per week (Monday 08:00 UTC)
    weeks = traffic.weeks
    bot_t = (c.epoch_day0 + traffic.d0 + 7 * np.arange(weeks)) * 86400 + 8 * 3600
    n = len(sender)
    sender = np.concatenate([sender, np.full(weeks, -1)])
    sent = np.concatenate([sent, bot_t])
    conv = np.concatenate([conv, np.full(weeks, T)])
    root = np.concatenate([root, np.full(weeks, -1)])
    text = np.concatenate([text, np.full(weeks, -1)])
    tags = np.concatenate([tags, np.zeros(weeks, np.int64)])
    is_auto = np.arange(n + weeks) >= n
    # Slack ts must be unique per conversation: nudge same-second messages by 1 s.
    sent = sent.copy()
    while True:
        order = np.lexsort((np.arange(len(sent)), sent, conv))
        dup = np.zeros(len(sent), bool)
        dup[order[1:]] = (conv[order[1:]] == conv[order[:-1]]) & (sent[order[1:]] == sent[order[:-1]])
        if not dup.any():
            break
        sent[dup] += 1
    # a thread reply must come after its root
    has = root >= 0
    bad = has & (sent <= np.where(has, sent[np.maximum(root, 0)], 0))
    root[bad] = -1
    return Chat(sender, sent, conv, root, text, is_auto, tags), convs


def commits(traffic: Traffic, extra: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(author, UTC second, tag) of commits: engineers' workdays inside working hours."""
    p, t = traffic.draw_times(0.7)
    keep = traffic.r.engineer[p]
    p, t = p[keep], t[keep]
    tags = [np.zeros(len(p), np.int64)]
    ps, ts = [p], [t]
    for blk in extra:
        ps.append(int_array(blk["sender"]))
        ts.append(int_array(blk["sent"]))
        tags.append(np.full(len(blk["sender"]), blk["tag"]))
    return np.concatenate(ps), np.concatenate(ts), np.concatenate(tags)
