"""Export a Viva Insights person query (CSV), readable by the ``vivainsights`` package.

One row per person-week. ``MetricDate`` is the local Monday of the week (MM/DD/YYYY,
as Viva's week starts are dated). Column mapping (ours -> Viva):

| Viva column | worklife |
|---|---|
| Collaboration_hours, Meeting_hours, Email_hours, Chat_hours | collaboration/meeting/email/chat_hours |
| After_hours_{collaboration,meeting,email,chat}_hours | after_hours_* |
| Conflicting_meeting_hours, Large_and_long_meeting_hours | same |
| Collaboration_span | workweek_span (Viva legacy per-day first-to-last, clamped) |
| Active_connected_hours | active_connected_hours |
| Weekend_collaboration_hours | collaboration on local Saturdays and Sundays |
| Emails_sent, Chats_sent, Meetings | emails_sent, chats_sent, meetings |
| Meeting_and_call_hours | meeting_hours (no calls are ingested) |

HR columns: Organization (team), LevelDesignation (level), TimeZone (IANA zone used),
SupervisorId (manager), WorkingStartTimeSetInOutlook / WorkingEndTimeSetInOutlook.

Private by default (docs/privacy.md): ``export_viva`` with ``min_group_size`` coarsens
the HR columns until every combination covers that many people
(``worklife.privacy.kanon``); with ``key`` PersonId and SupervisorId are keyed pseudonyms.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from worklife.config import Config
from worklife.metrics import compute, prepare
from worklife.privacy import pseudonymise
from worklife.privacy.kanon import k_anonymise
from worklife.store import Store

VIVA_COLUMNS = {
    "collaboration_hours": "Collaboration_hours", "meeting_hours": "Meeting_hours",
    "email_hours": "Email_hours", "chat_hours": "Chat_hours",
    "after_hours_collaboration_hours": "After_hours_collaboration_hours",
    "after_hours_meeting_hours": "After_hours_meeting_hours",
    "after_hours_email_hours": "After_hours_email_hours",
    "after_hours_chat_hours": "After_hours_chat_hours",
    "conflicting_meeting_hours": "Conflicting_meeting_hours",
    "large_and_long_meeting_hours": "Large_and_long_meeting_hours",
    "workweek_span": "Collaboration_span", "active_connected_hours": "Active_connected_hours",
    "weekend_collaboration_hours": "Weekend_collaboration_hours",
    "emails_sent": "Emails_sent", "chats_sent": "Chats_sent", "meetings": "Meetings",
}


def person_query(store_or_con: Store | str | Path, config: Config | None = None,
                 key: str | None = None, metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """The Viva person query as a DataFrame; ``key`` pseudonymises PersonId and SupervisorId.

    A store path is opened once (``worklife.metrics.stored.open_for_reading``), as in
    ``validate``: DuckDB refuses a second connection of another kind to the same file."""
    config = config or Config()
    from worklife.metrics.stored import is_store_file, open_for_reading

    if is_store_file(store_or_con):
        with open_for_reading(store_or_con, config) as store:
            return person_query(store, config, key, metrics)
    run = prepare(store_or_con, config)
    df = metrics if metrics is not None else compute(store_or_con, config)  # stored results
    out = pd.DataFrame({"PersonId": df["person_id"],
                        "MetricDate": pd.to_datetime(df["week_start"]).dt.strftime("%m/%d/%Y")})
    for ours, viva in VIVA_COLUMNS.items():
        out[viva] = df[ours].astype(float) if ours.endswith("hours") or ours == "workweek_span" else df[ours]
    out["Meeting_and_call_hours"] = df["meeting_hours"].astype(float)
    if run is not None:
        pf = run.cal.people_frame
        hr = pd.DataFrame({
            "PersonId": pf["person_id"], "Organization": pf["team"].fillna("(no team)"),
            "LevelDesignation": pf["level"].fillna("(unknown)"), "TimeZone": pf["tz"],
            "SupervisorId": pf["manager_id"],
            "WorkingStartTimeSetInOutlook": [f"{s // 3600:02d}:{s % 3600 // 60:02d}" for s in pf.work_start_s],
            "WorkingEndTimeSetInOutlook": [f"{s // 3600:02d}:{s % 3600 // 60:02d}" for s in pf.work_end_s],
        })
        out = out.merge(hr, on="PersonId", how="left")
    if key:
        out = pseudonymise(out, ["PersonId", "SupervisorId"], key)
    return out


HR_COLUMNS = ["Organization", "LevelDesignation", "TimeZone", "SupervisorId",
              "WorkingStartTimeSetInOutlook", "WorkingEndTimeSetInOutlook"]


def export_viva(store_or_con: Store | str | Path, out: str | Path, config: Config | None = None,
                key: str | None = None, min_group_size: int | None = None) -> tuple[int, list[str]]:
    """Write the person query CSV to ``out``; return (rows, HR coarsening steps applied).

    ``min_group_size``: coarsen the HR columns to that k (None: identified, as they are).
    """
    pq = person_query(store_or_con, config, key)
    steps: list[str] = []
    if min_group_size is not None:
        pq, steps = k_anonymise(pq, "PersonId", HR_COLUMNS, min_group_size)
    pq.to_csv(out, index=False)
    return len(pq), steps
