"""E-mail, chat and commits, generated vectorised with numpy (linear in people x weeks).

Background rules (so planted behaviour stays separable, see docs/synth.md):
- a person sends only on their workdays, inside working hours, except one optional
  "evening burst" per week (Mon-Thu, within 2 h after work_end; planted people have none);
- replies and chat answers are sent only if they land in the replier's working hours;
- no message from a manager reaches one of their direct reports (to/cc/bcc, DM, MPIM or
  channel member) outside the report's local 07:00-21:00 or on the report's non-workday:
  such messages are dropped. Only the planted night pinger does that.
Auto-replies (``is_auto``) answer e-mail reaching a person on a public holiday.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worklife.synth._clock import Clock
from worklife.synth.people import Roster

TO, CC, BCC = 0, 1, 2
SUBJECTS = ["Quarterly plan draft", "Budget numbers", "Release notes", "Hiring update",
            "Customer escalation", "Design doc comments", "Offsite logistics", "Metrics review",
            "Contract renewal", "On-call handover", "Roadmap questions", "Travel approval"]
CHAT_TEXTS = ["on it", "can you take a look?", "pushed a fix", "lgtm", "meeting moved",
              "any update?", "thanks!", "see thread", "deploying now", "blocked on review"]
COMMIT_TITLES = ["Fix flaky test", "Add metrics endpoint", "Refactor parser", "Update docs",
                 "Bump dependency", "Handle empty input", "Speed up export", "Tidy logging"]


@dataclass
class Mail:
    """E-mail as arrays. parent/root index into the same arrays (-1: none)."""

    sender: np.ndarray
    sent: np.ndarray
    parent: np.ndarray
    root: np.ndarray
    level: np.ndarray
    subj: np.ndarray
    is_auto: np.ndarray
    tag: np.ndarray
    rmsg: np.ndarray
    rperson: np.ndarray
    rkind: np.ndarray


@dataclass
class Chat:
    """Chat as arrays; conv indexes the conversation list, root is the thread root (-1)."""

    sender: np.ndarray
    sent: np.ndarray
    conv: np.ndarray
    root: np.ndarray
    text: np.ndarray
    is_auto: np.ndarray
    tag: np.ndarray


def int_array(a) -> np.ndarray:
    """``a`` as an int64 array (indices, epoch seconds)."""
    return np.asarray(a, dtype=np.int64)


class Traffic:
    def __init__(self, roster: Roster, clock: Clock, rng: np.random.Generator, d0: int, weeks: int,
                 quiet: np.ndarray):
        self.r, self.c, self.rng, self.d0, self.weeks = roster, clock, rng, d0, weeks
        self.quiet = quiet  # people without background evening bursts (planted)
        self.days = np.arange(d0, d0 + 7 * weeks)

    # -- shared helpers -------------------------------------------------------------------
    def pick(self, who: np.ndarray, cross: float = 0.15) -> np.ndarray:
        """A colleague of each person: a teammate, or with p=cross someone of the region."""
        r, rng = self.r, self.rng
        t = r.team[who]
        out = r.team_start[t] + (rng.random(len(who)) * r.team_size[t]).astype(np.int64)
        g = r.region[who]
        x = rng.random(len(who)) < cross
        xr = r.region_order[r.region_start[g] + (rng.random(len(who)) * r.region_size[g]).astype(np.int64)]
        out = np.where(x, xr, out)
        same = out == who
        alt = r.team_start[t] + (out - r.team_start[t] + 1) % r.team_size[t]
        return np.where(same, alt, out)

    def fits(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Instant t inside p's working hours on a workday of p."""
        d, tod = self.c.local(self.r.zone[p], t)
        d = np.clip(d, 0, self.c.ndays - 1)
        return self.r.workday[p, d] & (tod >= self.r.ws[p]) & (tod < self.r.we[p])

    def night_for_report(self, sender: np.ndarray, rec: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Sender manages rec and t is outside rec's 07:00-21:00 or on rec's non-workday."""
        mgr = self.r.manager[rec] == sender
        d, tod = self.c.local(self.r.zone[rec], t)
        d = np.clip(d, 0, self.c.ndays - 1)
        bad = ~self.r.workday[rec, d] | (tod < 7 * 3600) | (tod >= 21 * 3600)
        return mgr & bad

    def draw_times(self, per_day_lam: float) -> tuple[np.ndarray, np.ndarray]:
        """(person, UTC second) of events drawn per workday inside working hours."""
        r, rng = self.r, self.rng
        wd = r.workday[:, self.days]
        counts = rng.poisson(per_day_lam, size=wd.shape) * wd
        p, di = np.nonzero(counts)
        k = counts[p, di]
        p, d = np.repeat(p, k), np.repeat(self.days[di], k)
        tod = r.ws[p] + (rng.random(len(p)) * (r.we[p] - r.ws[p] - 60)).astype(np.int64)
        return p, self.c.utc(r.zone[p], d, tod)

    def evening(self, prob: float, n_lo: int, n_hi: int, width: int = 6900) -> tuple[np.ndarray, np.ndarray]:
        """(person, UTC second) of after-hours evening bursts starting in [work_end, work_end + width), Mon-Thu."""
        r, rng = self.r, self.rng
        n = len(r.ids)
        hit = (rng.random((n, self.weeks)) < prob) & ~self.quiet[:, None]
        p, w = np.nonzero(hit)
        d = self.d0 + 7 * w + rng.integers(0, 4, size=len(p))
        keep = r.workday[p, d]
        p, d = p[keep], d[keep]
        k = rng.integers(n_lo, n_hi + 1, size=len(p))
        p, d = np.repeat(p, k), np.repeat(d, k)
        tod = r.we[p] + rng.integers(0, width, size=len(p))
        return p, self.c.utc(r.zone[p], d, tod)

    # -- e-mail ---------------------------------------------------------------------------
    def recipients(self, msg: np.ndarray, sender: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = self.rng
        m = len(msg)
        nto = 1 + rng.binomial(2, 0.35, m)
        ncc = rng.binomial(2, 0.3, m)
        nbcc = (rng.random(m) < 0.04).astype(np.int64)
        kinds = np.concatenate([np.repeat(np.full(m, TO), nto), np.repeat(np.full(m, CC), ncc),
                                np.repeat(np.full(m, BCC), nbcc)])
        owner = np.concatenate([np.repeat(msg, nto), np.repeat(msg, ncc), np.repeat(msg, nbcc)])
        sidx = np.concatenate([np.repeat(sender, nto), np.repeat(sender, ncc), np.repeat(sender, nbcc)])
        person = self.pick(sidx)
        order = np.lexsort((kinds, owner))
        owner, person, kinds = owner[order], person[order], kinds[order]
        key = (owner * (len(self.r.ids) + 1) + person) * 3 + kinds
        _, first = np.unique(key, return_index=True)
        first.sort()
        return owner[first], person[first], kinds[first]

    def mail(self, extra: list[dict]) -> Mail:
        r, rng = self.r, self.rng
        p1, t1 = self.draw_times(1.3)
        p2, t2 = self.evening(0.25, 1, 2)
        sender, sent = np.concatenate([p1, p2]), np.concatenate([t1, t2])
        n = len(sender)
        rmsg, rper, rkind = self.recipients(np.arange(n), sender)
        bad = np.zeros(n, bool)
        bad[rmsg[self.night_for_report(sender[rmsg], rper, sent[rmsg])]] = True
        keep = ~bad
        newidx = np.cumsum(keep) - 1
        sender, sent = sender[keep], sent[keep]
        rk = keep[rmsg]
        rmsg, rper, rkind = newidx[rmsg[rk]], rper[rk], rkind[rk]
        n = len(sender)
        cols = {"sender": [sender], "sent": [sent], "parent": [np.full(n, -1)], "root": [np.arange(n)],
                "level": [np.zeros(n, np.int64)], "subj": [rng.integers(0, len(SUBJECTS), n)],
                "is_auto": [np.zeros(n, bool)], "tag": [np.zeros(n, np.int64)]}
        recs = [(rmsg, rper, rkind)]
        total = n
        # Auto-replies from To recipients who are on a public holiday that day.
        d, _ = self.c.local(r.zone[rper], sent[rmsg])
        d = np.clip(d, 0, self.c.ndays - 1)
        ooo = (rkind == TO) & r.holiday[rper, d] & (rper != sender[rmsg])
        par = rmsg[ooo]
        total = self._append(cols, recs, total, rper[ooo], sent[par] + 60, par, True,
                             [(np.arange(len(par)), sender[par], np.full(len(par), TO))])
        # Replies: level 1 from the first To recipient, level 2 back from the original sender.
        parents = np.arange(n)
        first_to = np.full(n, -1)
        to_rows = np.nonzero(rkind == TO)[0]
        first_to[rmsg[to_rows[::-1]]] = rper[to_rows[::-1]]
        for level in (1, 2):
            chosen = parents[rng.random(len(parents)) < (0.45 if level == 1 else 0.3)]
            allsend = np.concatenate(cols["sender"])
            allsent = np.concatenate(cols["sent"])
            if level == 1:
                replier = first_to[chosen]
            else:
                replier = allsend[np.concatenate(cols["parent"])[chosen]]
            ok = (replier >= 0) & (replier != allsend[chosen])
            chosen, replier = chosen[ok], replier[ok]
            t = allsent[chosen] + 300 + np.minimum(rng.exponential(3600, len(chosen)), 6 * 3600).astype(np.int64)
            ok = self.fits(replier, t)
            chosen, replier, t = chosen[ok], replier[ok], t[ok]
            to = allsend[chosen]
            ok = ~self.night_for_report(replier, to, t)
            chosen, replier, t, to = chosen[ok], replier[ok], t[ok], to[ok]
            start = total
            total = self._append(cols, recs, total, replier, t, chosen, False,
                                 [(np.arange(len(chosen)), to, np.full(len(chosen), TO))])
            parents = np.arange(start, total)
        for block in extra:  # planted e-mail: new threads, To only
            k = len(block["sender"])
            total = self._append(cols, recs, total, int_array(block["sender"]), int_array(block["sent"]),
                                 np.full(k, -1), False,
                                 [(np.arange(k), int_array(block["to"]), np.full(k, TO))], tag=block["tag"])
        c = {k: np.concatenate(v) for k, v in cols.items()}
        rm = np.concatenate([x[0] for x in recs])
        rp = np.concatenate([x[1] for x in recs])
        rkk = np.concatenate([x[2] for x in recs])
        return Mail(c["sender"], c["sent"], c["parent"], c["root"], c["level"], c["subj"],
                    c["is_auto"], c["tag"], rm, rp, rkk)

    def _append(self, cols, recs, total, sender, sent, parent, auto, rec_blocks, tag=0) -> int:
        k = len(sender)
        if k == 0:
            return total
        allroot = np.concatenate(cols["root"])
        alllevel = np.concatenate(cols["level"])
        allsubj = np.concatenate(cols["subj"])
        has = parent >= 0
        cols["sender"].append(int_array(sender))
        cols["sent"].append(int_array(sent))
        cols["parent"].append(int_array(parent))
        cols["root"].append(np.where(has, allroot[np.where(has, parent, 0)], total + np.arange(k)))
        cols["level"].append(np.where(has, alllevel[np.where(has, parent, 0)] + 1, 0))
        cols["subj"].append(np.where(has, allsubj[np.where(has, parent, 0)],
                                     self.rng.integers(0, len(SUBJECTS), k)))
        cols["is_auto"].append(np.full(k, auto))
        cols["tag"].append(np.full(k, tag))
        for local, person, kind in rec_blocks:
            recs.append((total + int_array(local), int_array(person), int_array(kind)))
        # Replies copy the parent's Cc list (minus the replier), like "reply all".
        if not auto and has.any():
            prev_m = np.concatenate([x[0] for x in recs[:-1]]) if len(recs) > 1 else np.zeros(0, np.int64)
            prev_p = np.concatenate([x[1] for x in recs[:-1]]) if len(recs) > 1 else np.zeros(0, np.int64)
            prev_k = np.concatenate([x[2] for x in recs[:-1]]) if len(recs) > 1 else np.zeros(0, np.int64)
            cc_rows = prev_k == CC
            pos = np.full(total, -1)
            pos[parent[has]] = total + np.nonzero(has)[0]
            owner = pos[prev_m[cc_rows]]
            person = prev_p[cc_rows]
            ok = (owner >= 0)
            owner, person = owner[ok], person[ok]
            ok = person != int_array(sender)[owner - total]
            recs.append((owner[ok], person[ok], np.full(int(ok.sum()), CC)))
        return total + k


def drop_night_pings(m: Mail, traffic: Traffic) -> Mail:
    """Drop background e-mail (and its replies) from a manager reaching a report at night,
    and receipts falling outside the generated weeks in the recipient's zone."""
    n = len(m.sender)
    bad = np.zeros(n, bool)
    hit = traffic.night_for_report(m.sender[m.rmsg], m.rperson, m.sent[m.rmsg])
    bad[m.rmsg[hit]] = True
    bad &= m.tag == 0
    for _ in range(3):
        has = m.parent >= 0
        bad[has] |= bad[m.parent[has]]
    keep = ~bad
    new = np.cumsum(keep) - 1
    # receipts outside the generated weeks (recipient's local date) are dropped: no spill-over weeks
    d, _ = traffic.c.local(traffic.r.zone[m.rperson], m.sent[m.rmsg])
    inside = (d >= traffic.d0) & (d < traffic.d0 + 7 * traffic.weeks)
    rk = keep[m.rmsg] & inside
    parent = m.parent[keep]
    return Mail(m.sender[keep], m.sent[keep], np.where(parent >= 0, new[np.maximum(parent, 0)], -1),
                new[m.root[keep]], m.level[keep], m.subj[keep], m.is_auto[keep], m.tag[keep],
                new[m.rmsg[rk]], m.rperson[rk], m.rkind[rk])
