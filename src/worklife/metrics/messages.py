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


def email_actions(messages: ir.Table, recipients: ir.Table, config: Config) -> ir.Table:
    """(person_id, message_key, at_s, action 'sent'|'received', credit_s) before gap capping."""
    sent_s = int(round(float(config["metrics.email_sent_minutes"]) * 60))
    recv_s = int(round(float(config["metrics.email_received_minutes"]) * 60))
    m = _human(messages, "email")
    sent = m.filter(m.sender_id.notnull()).select(
        person_id=m.sender_id, message_key=m.message_key, at_s=m.at_s,
        action=ibis.literal("sent"), credit_s=ibis.literal(sent_s, "int64"))
    r = recipients.filter(recipients.kind.lower().isin(["to", "cc"]))
    r = r.select(rk=r.message_key, rp=r.person_id)
    j = m.join(r, m.message_key == r.rk)
    j = j.filter(j.sender_id.isnull() | (j.rp != j.sender_id))
    recv = j.select(
        person_id=j.rp, message_key=j.message_key, at_s=j.at_s,
        action=ibis.literal("received"), credit_s=ibis.literal(recv_s, "int64")).distinct()
    return union_all(sent, recv)


def email_intervals(actions: ir.Table) -> ir.Table:
    """Each action's covered interval: actions + start_s, end_s (end capped by the next action)."""
    t = actions.mutate(_ord=ibis.ifelse(actions.action == "sent", 0, 1))
    w = ibis.window(group_by="person_id", order_by=["at_s", "_ord", "message_key"])
    t = t.mutate(_next=_.at_s.lead().over(w))
    cover = ibis.ifelse(_._next.isnull(), _.credit_s, ibis.least(_.credit_s, _._next - _.at_s))
    t = t.mutate(start_s=_.at_s, end_s=_.at_s + cover)
    return t.drop("_ord", "_next")


def chat_messages(messages: ir.Table) -> ir.Table:
    """(person_id, message_key, at_s, channel_name) of sent human chat messages."""
    m = _human(messages, "chat")
    m = m.filter(m.sender_id.notnull())
    return m.select(person_id=m.sender_id, message_key=m.message_key, at_s=m.at_s,
                    channel_name=m.subject_or_channel)


def chat_sessions(chats: ir.Table, config: Config) -> ir.Table:
    """(person_id, start_s, end_s, messages) per chat session."""
    gap_s = int(round(float(config["metrics.chat_session_gap_minutes"]) * 60))
    msg_s = int(config["metrics.chat_message_seconds"])
    w = ibis.window(group_by="person_id", order_by=["at_s", "message_key"])
    t = chats.mutate(_prev=_.at_s.lag().over(w))
    t = t.mutate(_new=ibis.ifelse(_._prev.isnull() | ((_.at_s - _._prev) > gap_s), 1, 0))
    wc = ibis.window(group_by="person_id", order_by=["at_s", "message_key"], rows=(None, 0))
    t = t.mutate(_sid=_._new.sum().over(wc))
    s = t.group_by(["person_id", "_sid"]).agg(
        start_s=_.at_s.min(), end_s=_.at_s.max() + msg_s, messages=_.at_s.count())
    return s.drop("_sid")


def sent_instants(messages: ir.Table) -> ir.Table:
    """(person_id, at_s, channel) of every sent human message (e-mail and chat)."""
    m = messages.filter(~messages.is_auto.fill_null(False) & messages.sender_id.notnull())
    return m.select(person_id=m.sender_id, at_s=epoch_seconds(m.sent_utc),
                    channel=m.channel.lower())
