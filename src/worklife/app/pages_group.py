"""Group pages: Team and Digest (managers, analysts), Organisation, Policy findings and exports (analysts).

No handler here returns a person's own numbers: team and organisation values are
means over at least ``privacy.min_group_size`` people (``AppData.group_weeks``) and
findings name people only by keyed pseudonyms unless ``app.identify_findings``.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from worklife.app import access
from worklife.app.context import Ctx
from worklife.app.data import TREND
from worklife.app.findings import findings_frame
from worklife.app.render import bar_chart, line_chart, table
from worklife.app.web import page, signed_in

router = APIRouter(include_in_schema=False)
GROUP_COLS = {"week": "Week", "people": "People", **{m: f"{label} (h/person)" for m, label in TREND.items()},
              "status_meeting_hours": "Status meetings (h/person)", "workweek_span": "Workweek span (h/person)",
              "over_40h_pct": "Over 40 h (% of people)"}


@router.get("/team")
def team_index(ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "manager", "analyst")
    teams = access.visible_teams(ctx.user, ctx.data)
    if not teams:
        access.deny()
    return RedirectResponse(f"/team/{access.quote_path(teams[0])}", status_code=303)


@router.get("/team/{team}")
def team_page(request: Request, team: str, ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "manager", "analyst")
    access.require_team(ctx.user, ctx.data, team)
    teams = access.visible_teams(ctx.user, ctx.data)
    size = ctx.data.team_sizes().get(team, 0)
    shown = access.team_is_shown(ctx.data, team)
    weeks = ctx.data.group_weeks(team) if shown else pd.DataFrame()
    chart = line_chart("team-trend", f"{team}: weekly mean hours per person", "hours per person-week", weeks,
                       "week", TREND, message="No week of this team has enough people to show.")
    tab = table("team-weeks", f"{team}: weekly means per person", weeks, GROUP_COLS, digits=1,
                empty="No week of this team has enough people to show.") if shown else None
    savings = ctx.data.savings(team) if shown and ctx.user.role == "manager" else None
    return page(request, ctx, "team.html", f"Team {team}", team=team, teams=teams, size=size, shown=shown,
                chart=chart, table=tab, savings=savings, min_group=ctx.data.min_group,
                hourly=float(ctx.data.config["metrics.hourly_cost"]))


@router.get("/digest")
def digest_index(ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "manager")
    teams = access.visible_teams(ctx.user, ctx.data)
    if not teams:
        access.deny()
    return RedirectResponse(f"/digest/{access.quote_path(teams[0])}", status_code=303)


@router.get("/digest/{team}")
def digest_page(request: Request, team: str, week: str | None = Query(None, max_length=10),
                ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "manager")
    access.require_team(ctx.user, ctx.data, team)
    weeks = ctx.data.weeks()
    chosen = week if week in weeks else (weeks[-1] if weeks else None)
    digest = ctx.data.digest(team, chosen) if chosen else None
    from worklife.digest import to_html

    body = _demote_headings(to_html(digest, standalone=False)) if digest is not None else None
    group = ctx.data.group_weeks(team) if access.team_is_shown(ctx.data, team) else pd.DataFrame()
    row = group[group.week == chosen]
    numbers = None if row.empty else row.iloc[0].to_dict()
    return page(request, ctx, "digest.html", f"Digest {team}", team=team, teams=access.visible_teams(ctx.user, ctx.data),
                weeks=weeks, week=chosen, body=body, numbers=numbers, min_group=ctx.data.min_group)


def _demote_headings(html: str) -> str:
    """Shift h1..h5 one level down: the digest sits under the page's own h1."""
    import re

    return re.sub(r"<(/?)h([1-5])\b", lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html)


@router.get("/org")
def org_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "analyst")
    weeks = ctx.data.group_weeks(None)
    teams, small = ctx.data.team_table()
    charts = [
        line_chart("org-trend", "Organisation: weekly mean hours per person", "hours per person-week", weeks,
                   "week", TREND, message="No week has enough people to show."),
        bar_chart("org-teams", "After-hours collaboration by team", "hours per person-week", list(teams.team),
                  {"Mean": list(teams.after_hours_collaboration_hours), "90th percentile": list(teams.after_hours_p90)},
                  message="No team has enough people to show."),
    ]
    tcols = {"team": "Team", "people": "People", **{m: f"{label} (h/person-week)" for m, label in TREND.items()},
             "after_hours_p90": "After hours p90 (h)", "over_40h_pct": "Over 40 h (% of people)"}
    team_tab = table("org-teams-table", "Teams (means per person-week)", teams, tcols,
                     links={"team": lambda r: f"/team/{access.quote_path(r['team'])}"}, empty="No team is large enough.")
    week_tab = table("org-weeks", "Organisation by week (means per person)", weeks, GROUP_COLS)
    validation = ctx.data.validation()
    return page(request, ctx, "org.html", "Organisation", charts=charts, team_table=team_tab, week_table=week_tab,
                small=small, min_group=ctx.data.min_group, validation=_validation_tables(validation))


def _validation_tables(v: dict[str, list[dict]]) -> list:
    """Validation lists as tables; person-level lists are counted, not listed (analysts see groups)."""
    out = []
    personal = {"inactive_person_weeks", "little_recorded_activity", "tz_skew"}
    for name, rows in v.items():
        title = name.replace("_", " ").capitalize()
        df = pd.DataFrame(rows)
        if name in personal or "person_id" in df.columns:
            df = pd.DataFrame([{"check": title, "flagged": len(rows)}])
            out.append(table(f"val-{name}", title, df, {"check": "Check", "flagged": "Flagged rows"}))
        else:
            out.append(table(f"val-{name}", title, df, {c: c.replace("_", " ") for c in df.columns},
                             empty="Nothing flagged."))
    return out


FINDINGS_SHOWN = 300  # rows on the page; the CSV export and the API carry every finding


@router.get("/findings")
def findings_page(request: Request, ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "analyst")
    df = findings_frame(ctx)
    by_rule = df.groupby(["rule", "severity"], as_index=False).agg(findings=("count", "size"), events=("count", "sum"))
    chart = bar_chart("findings-rules", "Findings by rule", "findings", list(by_rule.rule),
                      {"Findings": list(by_rule.findings)}, message="No findings under this policy.")
    cols = {"severity": "Severity", "rule": "Rule", "jurisdiction": "Jurisdiction", "week": "Week",
            "person": "Person", "counterpart": "From", "count": "Times", "message": "What"}
    shown = df.head(FINDINGS_SHOWN)
    caption = "Findings, most severe first" + (
        f" (the first {FINDINGS_SHOWN:,} of {len(df):,}; the CSV has all)" if len(df) > FINDINGS_SHOWN else "")
    return page(request, ctx, "findings.html", "Policy findings", chart=chart,
                table=table("findings", caption, shown, cols, empty="No findings under this policy."),
                identified=bool(ctx.data.config["app.identify_findings"]), policy=ctx.data.config["app.policy"])


EXPORTS = {"teams": "Teams: means per person-week", "org-weeks": "Organisation by week",
           "findings": "Policy findings (as shown on the findings page)"}


@router.get("/export/{name}.csv")
def export_csv(name: str, ctx: Ctx = Depends(signed_in)) -> Response:
    access.require_role(ctx.user, "analyst")
    if name == "teams":
        df = ctx.data.team_table()[0]
    elif name == "org-weeks":
        df = ctx.data.group_weeks(None)
    elif name == "findings":
        df = findings_frame(ctx)
    else:
        access.deny()
    buf = io.StringIO()
    _csv_safe(df).to_csv(buf, index=False)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="worklife-{name}-{stamp}.csv"'})


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells starting with = + - @ get a leading apostrophe, so spreadsheets do not run them."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")
                                else v)
    return out
