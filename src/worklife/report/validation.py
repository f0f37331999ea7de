"""The "Validation" report section: what to check before trusting the numbers.

A section provider (see ``worklife.report.sections.collect_sections``): it calls
``worklife.metrics.validate.validate(store, config, metrics=person_weeks)`` and turns
its findings into HTML. Findings are reported,
never applied. No person is named: findings about individuals (inactive person-weeks,
people with little recorded activity, calendar fallbacks) are shown as counts.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from worklife.config import Config
from worklife.metrics.validate import validate
from worklife.privacy.suppression import min_group_size, too_small
from worklife.report.sections import Section, frame_table, note, section
from worklife.store import Store

log = logging.getLogger(__name__)


def _frame(v: Any, name: str) -> pd.DataFrame:
    frame = getattr(v, name, None)
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


def _count(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].nunique()) if column in frame.columns else len(frame)


def validation_html(v: Any, config: Config, people: int) -> str:
    """HTML of a ``Validation`` (holiday weeks, inactive weeks, skew, fallbacks, exclusions)."""
    min_group = min_group_size(config)
    holiday = _frame(v, "holiday_weeks")
    inactive = _frame(v, "inactive_person_weeks")
    little = _frame(v, "little_recorded_activity")
    skew = _frame(v, "tz_skew")
    fallbacks = _frame(v, "fallbacks")
    exclusions = _frame(v, "exclusions")
    parts = [("<p>Checks on the data behind every figure above. They are reported, never "
             "applied: no week or person was removed because of them.</p>")]

    parts.append(f"<h3>Holiday weeks (org mean collaboration z &lt; {config['metrics.holiday_week_z']:g})</h3>")
    if too_small(people, min_group):
        parts.append(note(f"Suppressed: fewer than {min_group} people.", "privacy"))
    else:
        parts.append(frame_table(holiday, digits=2, empty="No holiday week detected."))

    parts.append("<h3>Individual patterns (counts only)</h3>")
    rows = [
        (f"<li>{len(inactive):,} person-weeks of {_count(inactive, 'person_id'):,} people look inactive "
        f"(collaboration z ≤ {config['metrics.inactive_week_z']:g} against the person's own mean).</li>"),
        (f"<li>{len(little):,} people average under {config['metrics.min_mean_collaboration_hours']:g} "
        "collaboration hours a week: little recorded activity (their work may happen outside the "
        "sources ingested, or they were away).</li>"),
        (f"<li>{_count(fallbacks, 'person_id'):,} people had calendar fields fall back to the org "
        "defaults.</li>"),
    ]
    parts.append("<ul>" + "".join(rows) + "</ul>")

    parts.append("<h3>Time-zone skew per source</h3>")
    parts.append("<p>The whole-hour shift that would put the most activity inside working hours; "
                 "a flagged source probably carries the wrong time zone.</p>")
    parts.append(frame_table(skew, digits=2, empty="No activity to check."))

    parts.append("<h3>Exclusions by reason</h3>")
    parts.append(frame_table(exclusions, digits=0, empty="Nothing was excluded."))
    return "\n".join(parts)


def validation_sections(store: Store, config: Config, person_weeks: Any) -> list[Section] | None:
    """The validation section (a report section provider)."""
    v = validate(store, config, metrics=person_weeks)
    people = int(person_weeks["person_id"].nunique()) if person_weeks is not None else 0
    return [section("Validation", validation_html(v, config, people), "validation")]
