"""Policy findings as the app shows them (the Findings page, its CSV export and the API)."""

from __future__ import annotations

import pandas as pd

from worklife.app.context import Ctx
from worklife.app.withhold import withhold_small_jurisdictions
from worklife.privacy import pseudonym

COLUMNS = ["severity", "rule", "jurisdiction", "week", "person", "counterpart", "count", "message", "source"]


def findings_frame(ctx: Ctx) -> pd.DataFrame:
    """Findings as rows, people pseudonymised unless ``app.identify_findings`` (cached)."""
    identify = bool(ctx.data.config["app.identify_findings"])
    return ctx.data.cached_small(("findings_frame", identify), lambda: _findings_frame(ctx, identify))


def _findings_frame(ctx: Ctx, identify: bool) -> pd.DataFrame:
    key = ctx.db.secret("pseudonym_key")
    rows = []
    for f in ctx.data.findings():
        who, other = f.person_id, f.counterpart_id
        if not identify:
            who, other = pseudonym(who, key) if who else None, pseudonym(other, key) if other else None
        rows.append({"severity": f.severity, "rule": f.rule, "jurisdiction": f.jurisdiction, "week": f.week,
                     "person": who or "(organisation)", "counterpart": other or "", "count": f.count,
                     "message": f.message, "source": f.source})
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df if identify else withhold_small_jurisdictions(df, ctx.data.people(), ctx.data.min_group)
