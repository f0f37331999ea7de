"""``write``: the org's raw files in real formats, plus its ground truth.

    out/people.csv            people (columns of docs/synth.md)
    out/calendars/*.ics       one RFC 5545 calendar per person
    out/mail/                 one journal Maildir (or one mbox per ISO week)
    out/slack/                a Slack workspace export
    out/git/                  a git repository (git fast-import)
    out/ground_truth.parquet  exact per-person-week metrics (truth.person_week_metrics)
    out/planted.json          what was planted, with exact ids
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from pathlib import Path

from worklife.errors import ConfigError
from worklife.synth.model import Org
from worklife.synth.truth import person_week_metrics
from worklife.synth.write_git import write_git
from worklife.synth.write_ics import write_calendars
from worklife.synth.write_mail import write_maildir, write_mbox
from worklife.synth.write_slack import write_slack

log = logging.getLogger(__name__)
PEOPLE_COLUMNS = ["person_id", "email", "display_name", "tz", "work_start", "work_end", "workdays",
                  "manager_id", "team", "level", "jurisdiction"]
Step = Callable[[str, int], Callable[[int], None]]


def write_people(org: Org, path: Path) -> int:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(PEOPLE_COLUMNS)
        for row in org.people[PEOPLE_COLUMNS].itertuples(index=False):
            w.writerow(["" if v is None or v != v else v for v in row])
    return len(org.people)


def write(org: Org, out_dir: Path, mail_format: str = "maildir", ground_truth: bool = True,
          step: Step | None = None) -> dict:
    """Write every raw file of ``org`` under ``out_dir``; return what was written (counts, paths).

    ``step(name, total)`` (optional) is called before each stage and returns a
    ``advance(n)`` callback, for progress bars.
    """
    if mail_format not in ("maildir", "mbox"):
        raise ConfigError(f"mail format must be maildir or mbox, not {mail_format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def stage(name: str, total: int) -> Callable[[int], None] | None:
        return step(name, total) if step else None

    n_mail = int((org.messages["channel"] == "email").sum())
    n_chat = int((org.messages["channel"] == "chat").sum())
    summary: dict = {"out": str(out), "people": write_people(org, out / "people.csv")}
    summary["calendars"] = write_calendars(org, out / "calendars", stage("calendars", len(org.people)))
    summary["meeting_occurrences"] = len(org.meetings)
    writer = write_maildir if mail_format == "maildir" else write_mbox
    summary["emails"] = writer(org, out / "mail", stage(f"mail ({mail_format})", n_mail))
    summary["chat_messages"] = write_slack(org, out / "slack", stage("slack", n_chat))
    adv = stage("git", 1)
    summary["commits"] = write_git(org, out / "git")
    if adv:
        adv(1)
    (out / "planted.json").write_text(json.dumps(org.planted, indent=2, sort_keys=True, default=str) + "\n",
                                      encoding="utf-8")
    if ground_truth:
        adv = stage("ground truth", 1)
        truth = person_week_metrics(org)
        truth.to_parquet(out / "ground_truth.parquet", index=False)
        summary["ground_truth_rows"] = len(truth)
        if adv:
            adv(1)
    log.info("synth wrote %s", summary)
    return summary
