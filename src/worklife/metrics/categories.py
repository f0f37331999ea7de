"""Work about work: a labelled proxy from hierarchical regex categories.

Method (stated with every result): each qualifying meeting (by its title), each sent
chat message (by its channel name) and each sent e-mail (by its subject) is given the
first category of ``metrics.work_about_work_categories`` (in order) whose regex list
has a case-insensitive match, else ``uncategorised``. Categories are hierarchical by
``/`` (``coordination/status`` belongs to ``coordination``). Shares are per source:
meeting hours (duration of each person's occurrence; overlaps not removed), chat
messages and e-mails. This is an operational proxy, not Asana's survey measure.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
from ibis import _

from worklife.config import Config
from worklife.metrics import prepare
from worklife.metrics.intervals import union_all
from worklife.metrics.meetings import combined_pattern
from worklife.store import Store

METHOD = (
    "Proxy: first matching regex category (config metrics.work_about_work_categories, in order, "
    "case-insensitive) of meeting titles (weighted by hours), chat channel names (per message sent) "
    "and e-mail subjects (per e-mail sent); shares within each source. Not a measure of intent."
)
#: top-level categories counted as "work about work"
WORK_ABOUT_WORK_PARENTS = ("coordination",)


def categorise(text: ibis.Value, categories: dict[str, list[str]]) -> ibis.Value:
    """The first category whose patterns match ``text`` (a string column), else 'uncategorised'."""
    t = text.fill_null("")
    cases = [(t.re_search(combined_pattern(list(pats))), name) for name, pats in categories.items() if pats]
    return ibis.cases(*cases, else_="uncategorised") if cases else ibis.literal("uncategorised")


def work_about_work(store_or_con: Store | str | Path, config: Config | None = None,
                    by: str = "org") -> pd.DataFrame:
    """Shares per source and category (``by``: org | person).

    Columns: [person_id,] source, category, parent, amount, unit, share, is_work_about_work.
    """
    config = config or Config()
    run = prepare(store_or_con, config)
    cols = ["source", "category", "parent", "amount", "unit", "share", "is_work_about_work"]
    if run is None:
        return pd.DataFrame(columns=(["person_id"] if by == "person" else []) + cols)
    cats = dict(config["metrics.work_about_work_categories"])
    q = run.parts.qualifying
    msg = run.engine.table("messages")
    pf = run.cal.people_frame
    people = run.cal.keys
    m = q.select("person_id", text=q.title, amount=(q.end_s - q.start_s).cast("float64") / 3600,
                 source=ibis.literal("meetings"), unit=ibis.literal("hours"))
    h = msg.filter(~msg.is_auto.fill_null(False) & msg.sender_id.notnull())
    h = h.join(people, h.sender_id == people.pid_str).mutate(person_id=_.pk)
    c = h.filter(h.channel.lower() == "chat").select(
        "person_id", text=_.subject_or_channel, amount=ibis.literal(1.0), source=ibis.literal("chat"),
        unit=ibis.literal("messages"))
    e = h.filter(h.channel.lower() == "email").select(
        "person_id", text=_.subject_or_channel, amount=ibis.literal(1.0), source=ibis.literal("email"),
        unit=ibis.literal("e-mails"))
    allx = union_all(m, c, e)
    allx = allx.mutate(category=categorise(allx.text, cats))
    keys = (["person_id"] if by == "person" else []) + ["source", "unit", "category"]
    df = run.engine.execute(allx.group_by(keys).agg(amount=_.amount.sum()))
    if by == "person":  # rows carry the pipeline's int key: back to person ids
        df["person_id"] = df["person_id"].map(pf.set_index("pk")["person_id"])
    if df.empty:
        return pd.DataFrame(columns=(["person_id"] if by == "person" else []) + cols)
    tot = df.groupby(keys[:-2])["amount"].transform("sum")
    df["share"] = df["amount"] / tot
    df["parent"] = df["category"].str.split("/").str[0]
    df["is_work_about_work"] = df["parent"].isin(WORK_ABOUT_WORK_PARENTS)
    order = (["person_id"] if by == "person" else []) + cols
    return df[order].sort_values([k for k in keys if k != "unit"]).reset_index(drop=True)
