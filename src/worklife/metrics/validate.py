"""Validation: what to look at before trusting the numbers (reported, never applied).

``validate(store, config, metrics=None) -> Validation`` returns structured findings:

- ``holiday_weeks``: weeks whose org-mean collaboration hours have z < ``holiday_week_z``;
- ``inactive_person_weeks``: person-weeks with z <= ``inactive_week_z`` against the
  person's own mean collaboration hours (people whose hours vary);
- ``little_recorded_activity``: people with mean weekly collaboration hours <
  ``min_mean_collaboration_hours`` (little of their work shows in the sources ingested:
  other channels, part-time, away; nothing is implied about their role);
- ``tz_skew``: per source, the whole-hour shift (-12..12) that would put the most
  activity (sent messages, organised meeting starts) inside working hours (the centre
  of a plateau of equally good shifts; 0 if 0 is among them); flagged when it is not 0
  and gains at least ``tz_skew_min_gain`` of the activity (wrong zone on a source);
- ``fallbacks``: people whose zone, hours, workdays or jurisdiction fell back to the
  org defaults, with the value used;
- ``exclusions``: counts of meeting attendances and messages left out, by reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import pandas as pd
from ibis import _

from worklife.config import Config
from worklife.metrics import compute, prepare
from worklife.metrics.localtime import DAY_S, epoch_seconds
from worklife.metrics.intervals import union_all
from worklife.store import Store


@dataclass
class Validation:
    holiday_weeks: pd.DataFrame
    inactive_person_weeks: pd.DataFrame
    little_recorded_activity: pd.DataFrame
    tz_skew: pd.DataFrame
    fallbacks: pd.DataFrame
    exclusions: pd.DataFrame

    def as_dict(self) -> dict[str, list[dict]]:
        return {k: v.astype(object).where(v.notna(), None).to_dict("records")
                for k, v in self.__dict__.items()}


def _z(x: pd.Series, mean, std) -> pd.Series:
    std = pd.Series(std, index=x.index) if not isinstance(std, pd.Series) else std
    return (x - mean) / std.where(std > 0)


def _tz_skew(run, config: Config) -> pd.DataFrame:
    eng, cal = run.engine, run.cal
    msg, mt, at = eng.table("messages"), eng.table("meetings"), eng.table("meeting_attendees")
    m = msg.filter(~msg.is_auto.fill_null(False) & msg.sender_id.notnull())
    acts = [m.select(person_id=m.sender_id, at_s=epoch_seconds(m.sent_utc),
                     source=m.source.fill_null("(unknown)"))]
    j = at.filter(at.response.lower() == "organizer").join(mt, "meeting_key")
    acts.append(j.select("person_id", at_s=epoch_seconds(j.start_utc), source=j.source.fill_null("(unknown)")))
    loc = cal.locate(union_all(*acts))
    loc = loc.mutate(tod=loc.local_s - loc.day * DAY_S)
    ks = ibis.memtable({"k": list(range(-12, 13))}).select(k=_.k.cast("int64"))
    x = loc.cross_join(ks)
    shifted = (x.tod + x.k * 3600 + DAY_S) % DAY_S
    inside = ((shifted >= x.work_start_s) & (shifted < x.work_end_s)).cast("int64")
    g = x.mutate(inside=inside).group_by(["source", "k"]).agg(n=_.inside.count(), inside=_.inside.sum())
    df = eng.execute(g)
    if df.empty:
        return pd.DataFrame(columns=["source", "activities", "share_in_hours", "best_shift_hours",
                                     "share_at_best", "flagged"])
    df["share"] = df.inside / df.n
    rows = []
    gain = float(config["metrics.tz_skew_min_gain"])
    for source, d in df.groupby("source"):
        base = d[d.k == 0].iloc[0]
        top = d.share.max()
        tied = sorted(int(k) for k in d.k[d.share >= top - 1e-12])
        k_best = 0 if 0 in tied else tied[len(tied) // 2]  # the centre of a plateau of best shifts
        best = d[d.k == k_best].iloc[0]
        flagged = k_best != 0 and best.share - base.share >= gain
        rows.append({"source": source, "activities": int(base.n), "share_in_hours": float(base.share),
                     "best_shift_hours": int(best.k), "share_at_best": float(best.share),
                     "flagged": bool(flagged)})
    return pd.DataFrame(rows)


def _exclusions(run) -> pd.DataFrame:
    eng = run.engine
    att = run.parts.attendance
    a = eng.execute(att.group_by(reason=att.reason.fill_null("counted")).agg(n=_.meeting_key.count()))
    a.insert(0, "what", "meeting attendance")
    msg = eng.store.frame(
        """SELECT 'message' AS what, 'auto message' AS reason, count(*) AS n FROM messages WHERE is_auto
           UNION ALL SELECT 'message recipient', 'bcc', count(*) FROM message_recipients WHERE kind = 'bcc'""")
    return pd.concat([a, msg], ignore_index=True)


def validate(store_or_con: Store | str | Path, config: Config | None = None,
             metrics: pd.DataFrame | None = None) -> Validation:
    """All validation findings for a store (``metrics``: a ``compute`` result to reuse).

    A store path is opened once (refreshed first when this user can write it,
    ``worklife.metrics.stored.open_for_reading``): opening it twice in one process, once
    to read and once to refresh, is refused by DuckDB."""
    config = config or Config()
    from worklife.metrics.stored import is_store_file, open_for_reading

    if is_store_file(store_or_con):
        with open_for_reading(store_or_con, config) as store:
            return validate(store, config, metrics)
    run = prepare(store_or_con, config)
    df = metrics if metrics is not None else compute(store_or_con, config)  # stored results
    empty = pd.DataFrame()
    if df.empty or run is None:
        return Validation(empty, empty, empty, empty, empty, empty)
    c = "collaboration_hours"
    weekly = df.groupby("week")[c].mean().rename("mean_collaboration_hours").reset_index()
    weekly["z"] = _z(weekly.mean_collaboration_hours, weekly.mean_collaboration_hours.mean(),
                     weekly.mean_collaboration_hours.std(ddof=1))
    holiday = weekly[weekly.z < float(config["metrics.holiday_week_z"])].reset_index(drop=True)
    own = df.groupby("person_id")[c].agg(["mean", "std"]).reset_index()
    pw = df[["person_id", "week", c]].merge(own, on="person_id")
    pw["z"] = _z(pw[c], pw["mean"], pw["std"])
    inactive = pw[pw.z <= float(config["metrics.inactive_week_z"])][["person_id", "week", c, "z"]]
    little = own[own["mean"] < float(config["metrics.min_mean_collaboration_hours"])]
    little = little.rename(columns={"mean": "mean_collaboration_hours"})[["person_id", "mean_collaboration_hours"]]
    pf = run.cal.people_frame
    fb = pf[pf.defaults_used != ""][["person_id", "defaults_used", "tz", "work_start_s", "work_end_s",
                                     "workmask", "jurisdiction"]].reset_index(drop=True)
    return Validation(holiday, inactive.reset_index(drop=True), little.reset_index(drop=True),
                      _tz_skew(run, config), fb, _exclusions(run))


def format_report(v: Validation) -> str:
    """A plain-text validation report."""
    out = ["worklife validation report (findings are reported, never applied)", ""]
    sections = [
        ("Holiday weeks (org mean collaboration z below threshold)", v.holiday_weeks),
        ("Inactive person-weeks (z against the person's own mean)", v.inactive_person_weeks),
        ("Little recorded activity (mean weekly collaboration below threshold)", v.little_recorded_activity),
        ("Time-zone skew per source (whole-hour shift maximising activity in working hours)", v.tz_skew),
        ("People using org defaults (field fell back)", v.fallbacks),
        ("Exclusions by reason", v.exclusions),
    ]
    for title, frame in sections:
        out.append(f"== {title}: {len(frame)}")
        if len(frame):
            out.append(frame.to_string(index=False, max_rows=30))
        out.append("")
    return "\n".join(out)
