"""Chat webhooks: payload shapes, retries against a local HTTP sink, and when the post goes out."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from typer.testing import CliRunner

from worklife.cli import app
from worklife.config import Config
from worklife.digest import build_digest
from worklife.digest.webhook import (
    SLACK_BLOCKS,
    SLACK_SECTION,
    WebhookError,
    payload,
    planned_post,
    post,
    retry_after_s,
)
from worklife.store import connect
from worklife.workcal import resolve_person

WEEK = "2026-W47"
NOW = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)  # Monday 10:45 Paris, 09:45 London


class Sink:
    """A tiny HTTP server on 127.0.0.1 that answers from a script and records the requests."""

    def __init__(self, answers: list[tuple[int, dict[str, str], str]]):
        self.answers, self.requests = list(answers), []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.requests.append((self.path, dict(self.headers), body))
                status, headers, text = sink.answers.pop(0) if sink.answers else (200, {}, "ok")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/secret-key"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Sink:  # noqa: PYI034
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


PEOPLE = [("user01@example.com", "Europe/Paris"), ("user02@example.com", "Europe/Paris"),
          ("user03@example.com", "America/New_York")]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as s:
        s.upsert("people", [{"person_id": p, "email": p, "display_name": f"Test Person 0{i + 1}", "tz": tz,
                             "team": "alpha"} for i, (p, tz) in enumerate(PEOPLE)])
        s.upsert("outcomes", [
            {"outcome_key": f"pr_merged:o/r#{n}:{p}", "person_id": p, "at_utc": datetime(2026, 11, 18, 10, n),
             "kind": "pr_merged", "ref": f"o/r#{n}", "title": f"Change <{n}> & more", "project": "o/r",
             "state": "merged", "url": f"https://git.example.com/o/r/pull/{n}", "source": "test"}
            for n in range(1, 40) for p in [PEOPLE[n % 3][0]]])
    return path


@pytest.fixture
def digest(db):
    with connect(db, read_only=True) as s:
        return build_digest(s, Config(), "alpha", WEEK, NOW, numbers="none")


def test_slack_payload_is_blocks_within_limits_with_escaped_links(digest):
    body = payload(digest, "slack", limit=50)
    assert body["text"].startswith("Test Person 01, Test Person 02 and Test Person 03 shipped 39 pull requests")
    assert body["blocks"][0]["type"] == "header" and len(body["blocks"][0]["text"]["text"]) <= 150
    assert len(body["blocks"]) <= SLACK_BLOCKS
    sections = [b["text"]["text"] for b in body["blocks"][1:]]
    assert all(len(s) <= SLACK_SECTION for s in sections)
    joined = "\n".join(sections)
    assert "<https://git.example.com/o/r/pull/7|Change &lt;7&gt; &amp; more>" in joined
    assert "[Change" not in joined  # no Markdown links in mrkdwn


def test_links_from_exports_are_only_ever_http(tmp_path):
    from worklife.digest.doc import Span, para, to_html_fragment, to_md

    evil = [para(Span("click", "javascript:alert(1)")), para(Span("a\nmulti-line\ttitle", "https://x.example/1"))]
    html, md = to_html_fragment(evil), to_md(evil)
    assert "javascript" not in html and "javascript" not in md
    assert '<a href="https://x.example/1">a multi-line title</a>' in html


def test_teams_and_mattermost_payloads(digest):
    card = payload(digest, "teams")
    att = card["attachments"][0]
    assert card["type"] == "message" and att["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert att["content"]["version"] == "1.4" and att["content"]["body"][0]["weight"] == "Bolder"
    legacy = payload(digest, "teams-messagecard")
    assert legacy["@type"] == "MessageCard" and legacy["title"].startswith("alpha — week 2026-W47")
    text = payload(digest, "mattermost")["text"]
    assert "[Change <7> & more](https://git.example.com/o/r/pull/7)" in text


def test_a_huge_week_is_cut_with_a_note_never_over_the_limits(db):
    with connect(db) as s:
        s.upsert("outcomes", [
            {"outcome_key": f"pr_merged:o/big#{n}:{P}", "person_id": P, "at_utc": datetime(2026, 11, 19, 10, 0),
             "kind": "pr_merged", "ref": f"o/big#{n}", "title": f"A long title number {n} " + "x" * 150,
             "project": "o/big", "state": "merged", "url": f"https://git.example.com/o/big/pull/{n}", "source": "t"}
            for n in range(2000) for P in [PEOPLE[0][0]]])
        d = build_digest(s, Config(), "alpha", WEEK, NOW, numbers="none")
    slack = payload(d, "slack", full=True)
    assert len(slack["blocks"]) == SLACK_BLOCKS and "more lines: see the e-mail digest" in slack["blocks"][-1]["text"]["text"]
    assert all(len(b["text"]["text"]) <= SLACK_SECTION for b in slack["blocks"][1:])
    for kind in ("teams", "teams-messagecard"):
        body = payload(d, kind, full=True)
        dumped = json.dumps(body)
        assert len(dumped.encode()) <= 28 * 1024 and "more lines: see the e-mail digest" in dumped
        assert "A long title number 0 " in dumped  # cut from the end: the first items stay
    text = payload(d, "mattermost", full=True)["text"]
    assert len(text) <= 16000 and text.rstrip().endswith("more lines: see the e-mail digest or --full")


def test_post_retries_429_honouring_retry_after_then_succeeds(digest):
    waits: list[float] = []
    with Sink([(429, {"Retry-After": "3"}, "rate_limited"), (503, {}, "busy"), (200, {}, "ok")]) as sink:
        attempts = post(sink.url, payload(digest, "slack"), kind="slack", sleep=waits.append)
    assert attempts == 3 and waits == [3.0, 2.0]  # Retry-After, then exponential backoff (1, 2, ...)
    path, headers, body = sink.requests[-1]
    assert path == "/hooks/secret-key" and headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["blocks"][0]["type"] == "header"


def test_a_refusal_is_one_line_without_the_secret_path(digest):
    with Sink([(404, {}, "no_service")]) as sink, pytest.raises(WebhookError) as info:
        post(sink.url, payload(digest, "slack"), sleep=lambda s: None)
    msg = str(info.value)
    assert "HTTP 404 no_service" in msg and "secret-key" not in msg and "\n" not in msg
    assert len(sink.requests) == 1  # a 4xx other than 429 is not retried


def test_retries_give_up_and_long_waits_are_refused(digest):
    with Sink([(500, {}, "rollup_error")] * 3) as sink, pytest.raises(WebhookError, match="after 3 attempts"):
        post(sink.url, {"text": "x"}, retries=2, sleep=lambda s: None)
    with Sink([(429, {"Retry-After": "3600"}, "slow down")]) as sink, pytest.raises(WebhookError, match="wait 3600"):
        post(sink.url, {"text": "x"}, sleep=lambda s: None)


def test_legacy_teams_throttling_in_a_200_body_is_retried():
    waits: list[float] = []
    with Sink([(200, {}, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429"),
               (200, {}, "1")]) as sink:
        assert post(sink.url, {"text": "x"}, kind="teams-messagecard", sleep=waits.append) == 2


def test_retry_after_as_http_date():
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert retry_after_s("Mon, 23 Nov 2026 09:00:30 GMT", now) == 30.0
    assert retry_after_s("soon") is None


def schedules(zones: list[str]):
    return [resolve_person({"person_id": f"p{i}", "tz": z}, Config()) for i, z in enumerate(zones)]


def test_post_time_is_the_agreed_slot_in_the_team_zone():
    paris = schedules(["Europe/Paris"] * 2 + ["America/New_York"])
    early = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # Sunday night
    when = planned_post(early, date(2026, 11, 16), "Europe/Paris", "Mon 09:30", paris)
    assert when == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # Monday 09:30 Paris
    late = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # after the slot, in the day: now
    assert planned_post(late, date(2026, 11, 16), "Europe/Paris", "Mon 09:30", paris) == late


def test_never_at_night_for_the_majority():
    # The agreed zone says 09:30 Paris, but most of the team is in New York: wait for their morning.
    ny = schedules(["Europe/Paris", "America/New_York", "America/New_York"])
    when = planned_post(datetime(2026, 11, 22, tzinfo=UTC), date(2026, 11, 16), "Europe/Paris", "Mon 09:30", ny)
    assert when == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 New York


def test_cli_posts_at_the_agreed_time_and_says_when_otherwise(db):
    runner = CliRunner()
    with Sink([]) as sink:
        early = runner.invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", WEEK, "--numbers", "none",
                                    "--now", "2026-11-23T05:00:00Z", "--webhook", sink.url])
        assert early.exit_code == 0 and not sink.requests
        assert "due Mon 23 Nov 2026 09:30 Europe/Paris" in early.output
        ok = runner.invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", WEEK, "--numbers", "none",
                                 "--now", NOW.isoformat(), "--webhook", sink.url, "--webhook-kind", "mattermost"])
        assert ok.exit_code == 0, ok.output
        assert "Change <1> & more" in json.loads(sink.requests[0][2])["text"]
    bad = runner.invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", WEEK, "--webhook", "x",
                              "--webhook-kind", "irc"])
    assert bad.exit_code == 2 and "--webhook-kind 'irc'" in bad.output
    not_http = runner.invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", WEEK,
                                   "--now", "2026-11-23T05:00:00Z", "--webhook", "file:///etc/passwd"])
    assert not_http.exit_code == 2 and "expected an http(s) URL" in not_http.output
    personal = runner.invoke(app, ["digest", "--db", str(db), "--team", "alpha", "--week", WEEK,
                                   "--person", "user01@example.com", "--webhook", "http://127.0.0.1:1/x"])
    assert personal.exit_code == 2 and "never to a channel" in personal.output
