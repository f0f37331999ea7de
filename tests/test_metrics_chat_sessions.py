"""Chat time as one part per session equals the per-message definition (docs/metrics.md).

The pipeline (``messages.activity_parts``) emits one part per chat session; the
definition credits each message up to the next one when that is within the session
gap, else ``chat_message_seconds``. The union of those per-message parts, computed here
in plain Python, is the oracle: instants with ties, gaps exactly at the threshold and
credits longer than the gap included.
"""

from __future__ import annotations

import ibis
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from worklife.config import Config
from worklife.metrics.messages import activity_parts


def union_seconds(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Maximal disjoint runs covering the union of half-open [a, b) parts."""
    runs: list[tuple[int, int]] = []
    for a, b in sorted(p for p in parts if p[1] > p[0]):
        if runs and a <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], b))
        else:
            runs.append((a, b))
    return runs


def per_message_parts(instants: list[int], gap_s: int, msg_s: int) -> list[tuple[int, int]]:
    """The definition, message by message: up to the next message within the gap, else the credit."""
    ts = sorted(instants)
    out = []
    for i, t in enumerate(ts):
        nxt = ts[i + 1] if i + 1 < len(ts) else None
        out.append((t, nxt) if nxt is not None and nxt - t <= gap_s else (t, t + msg_s))
    return out


def pipeline_parts(chats: dict[int, list[int]], config: Config) -> dict[int, list[tuple[int, int]]]:
    rows = [{"person_id": p, "at_s": t} for p, ts in chats.items() for t in ts]
    chat = ibis.memtable(pd.DataFrame(rows, columns=["person_id", "at_s"]).astype("int64"))
    none = ibis.memtable(pd.DataFrame({"person_id": [0], "at_s": [0], "action": ["sent"],
                                       "credit_s": [0]})).filter(ibis._.person_id < 0)
    parts = ibis.duckdb.connect().execute(activity_parts(none, chat, config))
    return {p: list(zip(g.start_s, g.end_s)) for p, g in parts.groupby("person_id")}


# gaps at, just under and just over each session gap tried below (0, 1 and 15 minutes)
gaps = st.one_of(st.sampled_from([0, 1, 59, 60, 61, 899, 900, 901]), st.integers(min_value=0, max_value=3600))
instants = st.lists(gaps, min_size=1, max_size=25).map(
    lambda gs: [sum(gs[:i + 1]) for i in range(len(gs))])


@settings(max_examples=60, deadline=None)
@given(chats=st.dictionaries(st.integers(min_value=1, max_value=4), instants, min_size=1, max_size=3),
       gap_min=st.sampled_from([0.0, 1.0, 15.0]), msg_s=st.sampled_from([0, 30, 60, 1200]))
def test_session_parts_cover_exactly_the_per_message_parts(chats, gap_min, msg_s):
    config = Config()
    config.set("metrics.chat_session_gap_minutes", gap_min)
    config.set("metrics.chat_message_seconds", msg_s)
    got = pipeline_parts(chats, config)
    for person, ts in chats.items():
        expected = union_seconds(per_message_parts(ts, int(gap_min * 60), msg_s))
        assert union_seconds(got.get(person, [])) == expected


def test_one_part_per_session_not_per_message():
    """Four messages 0, 10, 25 and 41 minutes: sessions [0, 25 min + 30 s) and [41 min, +30 s)."""
    m = 60
    got = pipeline_parts({7: [0, 10 * m, 25 * m, 41 * m]}, Config())
    assert sorted(got[7]) == [(0, 25 * m + 30), (41 * m, 41 * m + 30)]


def test_messages_of_one_instant_are_one_session():
    got = pipeline_parts({3: [100, 100, 100]}, Config())
    assert got[3] == [(100, 130)]
