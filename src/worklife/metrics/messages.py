"""E-mail and chat time (docs/metrics.md, "Activities").

E-mail actions of P (channel ``email``, not ``is_auto``): sent (P is sender, credit
``email_sent_minutes``) and received (P on To/Cc, not Bcc, not the sender, credit
``email_received_minutes``; several listings of P on one message count once). Actions
are ordered by (sent_utc, sent before received, message_key); each covers
``[t, t + min(credit, t_next - t))``. Credits are rounded to whole seconds.

Chat sessions of P (channel ``chat``, not ``is_auto``, P sender): a new session starts
when the gap to P's previous chat exceeds ``chat_session_gap_minutes``; a session covers
``[first, last + chat_message_seconds)``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis import _

from worklife.config import Config
from worklife.metrics.intervals import union_all
from worklife.metrics.localtime import epoch_seconds


def _human(messages: ir.Table, channel: str) -> ir.Table:
    m = messages.filter((messages.channel.lower() == channel) & ~messages.is_auto.fill_null(False))
    return m.mutate(at_s=epoch_seconds(m.sent_utc))


def sent_messages(messages: ir.Table) -> ir.Table:
    """(person_id, at_s, channel) of every sent human message: not ``is_auto``, with a
    sender; ``channel`` lower-cased (e-mail, chat or any other). Only what the metrics
    read: a batched run keeps this for everyone in memory (``pipeline.build``)."""
    m = messages.filter(~messages.is_auto.fill_null(False) & messages.sender_id.notnull())
    return m.select(person_id=m.sender_id, at_s=epoch_seconds(m.sent_utc), channel=m.channel.lower())


def email_received(messages: ir.Table, recipients: ir.Table) -> ir.Table:
    """(person_id, at_s): human e-mail P is on To/Cc of (not Bcc, not the sender), one row
    per listing. Several listings of P on one message (To and Cc) still count once: they
    are actions at one instant, and an action lasts only until the next one
    (``activity_parts``), so all but one are empty. No DISTINCT over every listing is
    needed (it was the costliest step of a run: 10 M listings at 10,000 people)."""
    m = _human(messages, "email")
    r = recipients.filter(recipients.kind.lower().isin(["to", "cc"]))
    r = r.select(rk=r.message_key, rp=r.person_id)
    j = m.join(r, m.message_key == r.rk)
    j = j.filter(j.sender_id.isnull() | (j.rp != j.sender_id))
    return j.select(person_id=j.rp, at_s=j.at_s)


def email_actions(sent: ir.Table, received: ir.Table, config: Config) -> ir.Table:
    """(person_id, at_s, action 'sent'|'received', credit_s) before gap capping, from
    ``sent_messages`` and ``email_received``."""
    sent_s = int(round(float(config["metrics.email_sent_minutes"]) * 60))
    recv_s = int(round(float(config["metrics.email_received_minutes"]) * 60))
    e = sent.filter(sent.channel == "email")
    out = e.select("person_id", "at_s", action=ibis.literal("sent"),
                   credit_s=ibis.literal(sent_s, "int64"))
    recv = received.select("person_id", "at_s", action=ibis.literal("received"),
                           credit_s=ibis.literal(recv_s, "int64"))
    return union_all(out, recv)


def activity_parts(actions: ir.Table, chats: ir.Table, config: Config) -> ir.Table:
    """E-mail and chat time as parts (person_id, kind 'email'|'chat', start_s, end_s).

    One window for both, partitioned by (person, kind). E-mail: each action covers
    ``[t, t + min(credit, t_next - t))``. Chat: one part per session, ``[first, last +
    chat_message_seconds)``, where a session is a run of messages each within the session
    gap of the one before (the union of the per-message parts "up to the next message,
    or ``chat_message_seconds`` after the last"; about half as many rows as one per
    message). Ties in the order (same instant and action) only permute empty and equal
    intervals, so the unions do not depend on the message key, which is left out of the sort.
    """
    gap_s = int(round(float(config["metrics.chat_session_gap_minutes"]) * 60))
    msg_s = int(config["metrics.chat_message_seconds"])
    # the window is partitioned by a small int (0 e-mail, 1 chat), cheaper to sort than the kind's name
    e = actions.select("person_id", "at_s", "credit_s", _k=ibis.literal(0, "int8"),
                       _ord=ibis.ifelse(actions.action == "sent", 0, 1))
    c = chats.select("person_id", "at_s", credit_s=ibis.literal(msg_s, "int64"),
                     _k=ibis.literal(1, "int8"), _ord=ibis.literal(0))
    t = union_all(e, c)
    w = ibis.window(group_by=["person_id", "_k"], order_by=["at_s", "_ord"])
    t = t.mutate(_next=_.at_s.lead().over(w), _prev=_.at_s.lag().over(w))
    mail = t.filter(t._k == 0)
    mail = mail.select("person_id", kind=ibis.literal("email"), start_s=_.at_s, end_s=ibis.ifelse(
        _._next.isnull(), _.at_s + _.credit_s, _.at_s + ibis.least(_.credit_s, _._next - _.at_s)))
    parts = union_all(mail, chat_sessions(t.filter(t._k == 1), gap_s, msg_s))
    return parts.filter(parts.end_s > parts.start_s)


def chat_sessions(chat: ir.Table, gap_s: int, msg_s: int) -> ir.Table:
    """(person_id, kind 'chat', start_s, end_s) per session, from chat rows carrying the
    previous and next message instants of the same person (``_prev``, ``_next``).

    Only a session's first and last messages are kept; a second, small window pairs each
    first message with its session's last. Messages of one instant belong to one session
    (sessions are more than the gap apart), and a first message sorts before a last one
    of the same instant.
    """
    first = _._prev.isnull() | (_.at_s - _._prev > gap_s)
    last = _._next.isnull() | (_._next - _.at_s > gap_s)
    b = chat.filter(first | last).select("person_id", "at_s", _first=first, _last=last)
    w = ibis.window(group_by="person_id", order_by=["at_s", ibis.ifelse(b._first, 0, 1)])
    b = b.mutate(_end=ibis.ifelse(b._last, b.at_s, b.at_s.lead().over(w)))
    b = b.filter(b._first)
    return b.select("person_id", kind=ibis.literal("chat"), start_s=b.at_s, end_s=b._end + msg_s)


def chat_messages(sent: ir.Table) -> ir.Table:
    """(person_id, at_s) of sent human chat messages (``sent_messages``)."""
    c = sent.filter(sent.channel == "chat")
    return c.select("person_id", "at_s")


def sent_instants(sent: ir.Table) -> ir.Table:
    """(person_id, at_s, channel) of every sent human message (``sent_messages``)."""
    return sent.select("person_id", "at_s", "channel")
