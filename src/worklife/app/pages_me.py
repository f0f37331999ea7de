"""The employee pages: one's own week, trends, explanations, boundaries and guard messages.

Every handler starts from ``access.own_person``: the account's own person, never an id
from the URL, so no parameter can reach somebody else's numbers.
"""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from worklife.app import access
from worklife.app.context import Ctx
from worklife.app.data import TREND
from worklife.app.render import bar_chart, line_chart, table
from worklife.app.users import CORRECTION_FIELDS
from worklife.app.web import check_csrf, page, signed_in
from worklife.metrics import METRIC_COLUMNS

router = APIRouter(include_in_schema=False)

#: metric -> (label, unit) for the tables
LABELS = {
    "collaboration_hours": ("Collaboration", "h"), "meeting_hours": ("Meetings", "h"),
    "email_hours": ("E-mail", "h"), "chat_hours": ("Chat", "h"), "focus_hours": ("Focus time", "h"),
    "uninterrupted_hours": ("Uninterrupted time", "h"),
    "after_hours_collaboration_hours": ("After-hours collaboration", "h"),
    "after_hours_meeting_hours": ("After-hours meetings", "h"), "after_hours_email_hours": ("After-hours e-mail", "h"),
    "after_hours_chat_hours": ("After-hours chat", "h"), "workweek_span": ("Workweek span", "h"),
    "active_connected_hours": ("Active connected time", "h"), "conflicting_meeting_hours": ("Conflicting meetings", "h"),
    "large_meeting_hours": ("Large meetings", "h"), "long_meeting_hours": ("Long meetings", "h"),
    "large_and_long_meeting_hours": ("Large and long meetings", "h"),
    "status_meeting_hours": ("Status meetings", "h"), "weekend_collaboration_hours": ("Weekend collaboration", "h"),
    "weekend_days_active": ("Weekend days active", "days"), "quiet_days": ("Quiet days", "days"),
    "over_40h": ("Span over 40 h", "yes/no"), "meetings": ("Meetings attended", "count"),
    "emails_sent": ("E-mails sent", "count"), "chats_sent": ("Chat messages sent", "count"),
}
WEEK_BARS = ["meeting_hours", "email_hours", "chat_hours", "focus_hours", "after_hours_collaboration_hours"]


def _pick_week(weeks: list[str], week: str | None) -> str | None:
    if week in weeks:
        return week
    return weeks[-1] if weeks else None


@router.get("/me/week")
def my_week(request: Request, week: str | None = Query(None, max_length=10), ctx: Ctx = Depends(signed_in)) -> Response:
    pid = access.own_person(ctx.user, ctx.data)
    rows = ctx.data.person_rows(pid)
    weeks = list(rows.week)
    chosen = _pick_week(weeks, week)
    this = rows[rows.week == chosen].iloc[0] if chosen else None
    mean = rows[METRIC_COLUMNS].mean(numeric_only=True) if len(rows) else None
    values = []
    for m in METRIC_COLUMNS:
        if m not in LABELS or this is None:
            continue
        label, unit = LABELS[m]
        v = this[m]
        values.append({"metric": m, "label": label, "unit": unit,
                       "value": ("yes" if v else "no") if unit == "yes/no" else f"{float(v):.1f}",
                       "mean": "" if unit == "yes/no" or mean is None else f"{float(mean[m]):.1f}"})
    chart = bar_chart(
        "week-bars", f"Your week {chosen or ''}: where the hours went", "hours",
        [LABELS[m][0] for m in WEEK_BARS] if this is not None else [],
        {f"Week {chosen}": [this[m] for m in WEEK_BARS], "Your weekly mean": [mean[m] for m in WEEK_BARS]}
        if this is not None and mean is not None else {},
        message="No activity of yours in this store yet.")
    person = ctx.data.person(pid) or {}
    return page(request, ctx, "me_week.html", "My week", week=chosen, weeks=weeks, values=values, chart=chart,
                person=person, fields=CORRECTION_FIELDS, sent=request.query_params.get("sent") == "1",
                corrections=ctx.db.corrections(ctx.user.email))


@router.get("/me/trends")
def my_trends(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    pid = access.own_person(ctx.user, ctx.data)
    rows = ctx.data.person_rows(pid)
    charts = [
        line_chart("trend-hours", "Your weekly hours", "hours per week", rows, "week", TREND,
                   message="No weeks of yours in this store yet."),
        line_chart("trend-span", "Your workweek span", "hours per week", rows, "week",
                   {"workweek_span": "Workweek span", "active_connected_hours": "Active connected time"},
                   message="No weeks of yours in this store yet."),
    ]
    cols = {"week": "Week", **{m: f"{LABELS[m][0]} (h)" for m in [*TREND, "workweek_span"]},
            "quiet_days": "Quiet days", "over_40h": "Over 40 h"}
    tab = table("trend-table", "Your weeks (hours)", rows, cols,
                links={"week": lambda r: f"/me/week?week={r['week']}"}, empty="No weeks of yours yet.")
    return page(request, ctx, "me_trends.html", "My trends", charts=charts, table=tab)


@router.get("/me/explain")
def my_explain(request: Request, week: str = Query(..., max_length=10), metric: str | None = Query(None, max_length=60),
               ctx: Ctx = Depends(signed_in)) -> Response:
    pid = access.own_person(ctx.user, ctx.data)
    if week not in set(ctx.data.person_rows(pid).week) or (metric is not None and metric not in METRIC_COLUMNS):
        access.deny()
    ex = ctx.data.explain(pid, week, metric)
    tables = [
        table("ex-meetings", "Meetings near this week", ex.meetings,
              {"start_local": "Start (your time)", "title": "Title", "hours": "Hours", "response": "Response",
               "invitees": "Invitees", "status": "Counted?", "overlap": "Overlaps another"},
              digits=2, empty="No meetings."),
        table("ex-messages", "Messages near this week", ex.messages,
              {"sent_local": "Sent (your time)", "channel": "Channel", "subject": "Subject or channel",
               "role": "Your part", "status": "Counted?"}, empty="No messages."),
    ]
    if not ex.pieces.empty:
        pieces = ex.pieces.assign(hours=ex.pieces.seconds / 3600, after=ex.pieces.after_s / 3600)
        tables.insert(0, table("ex-pieces", "The pieces that add up to this number", pieces,
                               {"kind": "Kind", "date": "Date", "local_start": "From", "local_end": "To",
                                "hours": "Hours", "after": "After hours (h)"}, digits=2))
    label = LABELS.get(metric or "", (metric or "all metrics", ""))[0]
    value = ex.values.get(metric) if metric else None
    return page(request, ctx, "me_explain.html", f"Explain: {label}", ex=ex, label=label, week=week,
                metric=metric, value=value, tables=tables)


@router.get("/me/boundaries")
def my_boundaries(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    pid = access.own_person(ctx.user, ctx.data)
    b = ctx.data.boundary()
    pairs = b["by_pair"]
    into_mine = pairs[pairs.recipient_id == pid].rename(columns={"sender_id": "who"})
    into_theirs = pairs[pairs.sender_id == pid].rename(columns={"recipient_id": "who"})
    cols = {"who": "Person", "contacts": "Messages", "off_hours_contacts": "Outside working hours",
            "holdable_contacts": "Could have waited", "manager_pair": "Manager → report",
            "after_hours_replies": "After-hours replies"}
    me_row = b["by_recipient"][b["by_recipient"].recipient_id == pid]
    sent_row = b["by_sender"][b["by_sender"].sender_id == pid]
    meet = b["meetings"][b["meetings"].person_id == pid]
    return page(request, ctx, "me_boundaries.html", "Boundaries",
                into_mine=table("into-mine", "Who sends into your rest", into_mine, cols,
                                empty="Nobody sent you messages outside your working hours."),
                into_theirs=table("into-theirs", "Whose rest you send into", into_theirs, cols,
                                  empty="None of your messages reached anyone outside their working hours."),
                received=_first(me_row), sent=_first(sent_row), meetings=_first(meet))


def _first(df: pd.DataFrame) -> dict | None:
    return None if df.empty else df.iloc[0].to_dict()


@router.post("/me/correction")
def request_correction(request: Request, field: str = Form(..., max_length=20), value: str = Form(..., max_length=200),
                       note: str = Form("", max_length=1000), csrf: str = Form(""),
                       ctx: Ctx = Depends(signed_in)) -> Response:
    check_csrf(ctx, csrf)
    pid = access.own_person(ctx.user, ctx.data)
    if field not in CORRECTION_FIELDS or not value.strip():
        access.deny()
    ctx.db.add_correction(ctx.user.email, pid, field, value.strip(), note.strip())
    return RedirectResponse("/me/week?sent=1#schedule", status_code=303)


@router.get("/me/guard")
def my_guard(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    pid = access.own_person(ctx.user, ctx.data)
    msgs = ctx.data.guard_messages(ctx.data.addresses(pid))
    tab = None
    if msgs is not None:
        tab = table("guard", "Your messages in the guard (held and released)", msgs,
                    {"id": "Id", "sender": "From", "recipient": "To", "state": "State", "mode": "Mode",
                     "due_utc": "Due (UTC)", "delivered_utc": "Delivered (UTC)", "urgent_reason": "Urgent because"},
                    empty="The guard holds or released no messages of yours.")
    return page(request, ctx, "me_guard.html", "Guard", table=tab)
