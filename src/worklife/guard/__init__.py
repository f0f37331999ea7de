"""The delivery guard: hold messages until the recipient's next working window.

Library surface (the CLI ``worklife guard serve|next-window`` is a thin layer on it)::

    next_window(schedule, at) -> datetime          # worklife.guard.schedule
    Directory.from_sources(config, store=, people=, fallback_tz=)
    Queue(path)                                     # SQLite WAL queue
    enqueue(queue, sender, recipients, subject, body, *, directory, now, ...) -> list[int]
    Deliverer(queue, directory, policy, clock, upstream).run_once()
    create_app(service) / serve(ServeOptions)

Hardening (docs/guard.md "Security model"): ``addresses`` (addr-spec validation),
``headers`` (header objects, Bcc removal, From: parsing), ``audit`` (JSON audit lines),
``limits`` (HTTP body limit), ``retention`` (what is kept and for how long), ``schema``
(queue tables, upgrades, 0600 files).
"""

from worklife.guard.clock import Clock, ManualClock, SystemClock
from worklife.guard.directory import Directory, resolve_recipient
from worklife.guard.intake import GuardPolicy, enqueue
from worklife.guard.queue import Queue
from worklife.guard.schedule import (
    RecipientSchedule,
    day_windows,
    in_window,
    local_to_utc,
    next_window,
)

__all__ = [
    "Clock",
    "Directory",
    "GuardPolicy",
    "ManualClock",
    "Queue",
    "RecipientSchedule",
    "SystemClock",
    "day_windows",
    "enqueue",
    "in_window",
    "local_to_utc",
    "next_window",
    "resolve_recipient",
]
