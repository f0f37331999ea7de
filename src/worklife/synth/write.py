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
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from worklife.errors import ConfigError, WorklifeError
from worklife.synth.divisions import merge_holidays, org_planted
from worklife.synth.model import Org
from worklife.synth.truth import person_week_metrics
from worklife.synth.write_git import GitStream
from worklife.synth.write_ics import write_calendars
from worklife.synth.write_mail import write_maildir, write_mbox
from worklife.synth.write_slack import slack_messages, slack_meta

log = logging.getLogger(__name__)
PEOPLE_COLUMNS = ["person_id", "email", "display_name", "tz", "work_start", "work_end", "workdays",
                  "manager_id", "team", "level", "jurisdiction"]
Step = Callable[[str, int], Callable[[int], None]]


def write_people(org: Org, path: Path, header: bool = True) -> int:
    """people.csv (appended to, without header, for divisions after the first)."""
    with path.open("w" if header else "a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if header:
            w.writerow(PEOPLE_COLUMNS)
        for row in org.people[PEOPLE_COLUMNS].itertuples(index=False):
            w.writerow(["" if v is None or v != v else v for v in row])
    return len(org.people)


def write(org: Org | Iterable[Org], out_dir: Path, mail_format: str = "maildir", ground_truth: bool = True,
          step: Step | None = None) -> dict:
    """Write every raw file of ``org`` under ``out_dir``; return what was written (counts, paths).

    ``org`` is one Org or the divisions of one (``generate_divisions``), written one at a
    time: memory holds one division plus the small people and channel tables.
    ``step(name, total)`` (optional) is called before each stage (of each division) and
    returns an ``advance(n)`` callback, for progress bars.
    """
    if mail_format not in ("maildir", "mbox"):
        raise ConfigError(f"mail format must be maildir or mbox, not {mail_format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = iter([org]) if isinstance(org, Org) else iter(org)

    def stage(name: str, total: int) -> Callable[[int], None] | None:
        return step(name, total) if step else None

    summary: dict = {"out": str(out), "people": 0, "calendars": 0, "meeting_occurrences": 0, "emails": 0,
                     "chat_messages": 0, "commits": 0}
    writer = write_maildir if mail_format == "maildir" else write_mbox
    git: GitStream | None = None
    truth_file: pq.ParquetWriter | None = None
    # kept across divisions: small tables and division 0's planted spec (not division 0 itself)
    people, channels, holidays, first_planted, start, divisions, span = [], [], {}, None, None, 0, None
    try:
        for part in parts:
            if first_planted is None:
                first_planted, start = part.planted, part.start
            divisions += 1
            n_mail = int((part.messages["channel"] == "email").sum())
            n_chat = int((part.messages["channel"] == "chat").sum())
            summary["people"] += write_people(part, out / "people.csv", header=divisions == 1)
            summary["calendars"] += write_calendars(part, out / "calendars", stage("calendars", len(part.people)))
            summary["meeting_occurrences"] += len(part.meetings)
            summary["emails"] += writer(part, out / "mail", stage(f"mail ({mail_format})", n_mail),
                                        first=summary["emails"])
            summary["chat_messages"] += slack_messages(part, out / "slack", stage("slack", n_chat))
            adv = stage("git", 1)
            git = git or GitStream(out / "git")
            summary["commits"] += git.add(part.commits)
            if adv:
                adv(1)
            people.append(part.people[["person_id", "email", "display_name", "tz", "slack_id"]])
            channels.append(part.channels)
            merge_holidays(holidays, part)
            if ground_truth:
                adv = stage("ground truth", 1)
                truth_file, rows, span = _append_truth(part, out / "ground_truth.parquet", truth_file, span)
                summary["ground_truth_rows"] = summary.get("ground_truth_rows", 0) + rows
                if adv:
                    adv(1)
            del part
    except BaseException:
        if git is not None:
            git.abort()
        raise
    finally:
        if truth_file is not None:
            truth_file.close()
    if first_planted is None:
        raise ConfigError("synth write: no organisation to write")
    slack_meta(pd.concat(people, ignore_index=True), pd.concat(channels, ignore_index=True), start,
               out / "slack")
    summary["commits"] = git.close() if git else 0
    planted = first_planted if divisions == 1 else org_planted(first_planted, holidays)
    (out / "planted.json").write_text(json.dumps(planted, indent=2, sort_keys=True, default=str) + "\n",
                                      encoding="utf-8")
    if divisions > 1:
        summary["divisions"] = divisions
    log.info("synth wrote %s", summary)
    return summary


def _append_truth(part: Org, path: Path, writer: pq.ParquetWriter | None,
                  span: tuple | None) -> tuple[pq.ParquetWriter, int, tuple]:
    """Append the division's ground truth to ``path``. Each division reports the weeks of
    its own activity: they must be those of division 0 (always so: activity fills the
    generated weeks), else the file would not be the org's person x week product."""
    truth = person_week_metrics(part)
    mine = (truth["week_start"].min(), truth["week_start"].max()) if len(truth) else None
    if span is not None and mine != span:
        raise WorklifeError(f"synth division {part.division}: ground truth spans {mine}, division 0 {span}")
    table = pa.Table.from_pandas(truth, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table.cast(writer.schema))
    return writer, len(truth), mine
