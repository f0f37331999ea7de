"""The HTTP API, in-process (httpx ASGITransport): what a sender and the operator see."""

from __future__ import annotations

import httpx
import pytest
from test_guard_support import (  # noqa: F401 (fixtures)
    OPERATOR_TOKEN,
    SENDER,
    SENDER_TOKEN,
    people_csv,
    service,
    tokens_file,
)

from worklife.guard.api import create_app

AUTH = {"Authorization": f"Bearer {SENDER_TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
async def client(service):  # noqa: F811
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://guard.test") as c:
        yield c


def message(**over):
    body = {"sender": SENDER, "recipients": ["user02@example.com"], "subject": "Numbers", "body": "See attached."}
    body.update(over)
    return body


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


async def test_post_holds_a_message_until_the_recipients_morning(client):
    # Clock: Wed 2026-03-04 10:00Z = 05:00 in New York (EST, UTC-5): held until 09:00 EST = 14:00Z.
    r = await client.post("/messages", json=message(), headers=AUTH)
    assert r.status_code == 202
    body = r.json()
    assert body["ok"] is True and len(body["ids"]) == 1
    (d,) = body["deliveries"]
    assert (d["state"], d["planned_utc"], d["planned_local"]) == (
        "held", "2026-03-04T14:00:00Z", "2026-03-04T09:00:00-05:00")
    got = (await client.get(f"/messages/{body['ids'][0]}", headers=AUTH)).json()
    assert got["ok"] and got["state"] == "held" and got["tz"] == "America/New_York"


async def test_several_recipients_are_split_per_window(client):
    # 10:00Z: Paris 11:00 (inside), New York 05:00 (held), Kolkata 15:30 (inside).
    r = await client.post("/messages", json=message(
        recipients=["user01@example.com", "user02@example.com", "user03@example.com"]), headers=AUTH)
    planned = {d["recipient"]: d["planned_utc"] for d in r.json()["deliveries"]}
    assert planned == {"user01@example.com": "2026-03-04T10:00:00Z", "user02@example.com": "2026-03-04T14:00:00Z",
                       "user03@example.com": "2026-03-04T10:00:00Z"}


async def test_argentina_is_delivered_now_with_no_reply_expected(client):
    # 10:00Z = 07:00 in Buenos Aires (UTC-3): sent now, no reply owed before 09:00 local = 12:00Z.
    r = await client.post("/messages", json=message(recipients=["user04@example.com"]), headers=AUTH)
    (d,) = r.json()["deliveries"]
    assert (d["mode"], d["planned_utc"]) == ("deliver_now", "2026-03-04T10:00:00Z")
    assert d["reply_not_expected_before_local"] == "2026-03-04T09:00:00-03:00"


async def test_idempotency_key_replays_the_first_answer(client):
    first = await client.post("/messages", json=message(idempotency_key="k1"), headers=AUTH)
    again = await client.post("/messages", json=message(idempotency_key="k1"), headers=AUTH)
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["ids"] == first.json()["ids"] and again.json()["replayed"] is True


async def test_recall_a_held_message_then_it_cannot_be_recalled_again(client):
    mid = (await client.post("/messages", json=message(), headers=AUTH)).json()["ids"][0]
    r = await client.delete(f"/messages/{mid}", headers=AUTH)
    assert r.status_code == 200 and r.json()["state"] == "recalled"
    r = await client.delete(f"/messages/{mid}", headers=AUTH)
    assert r.status_code == 409


async def test_urgent_release_needs_a_reason_and_is_rate_limited(client, service):  # noqa: F811
    ids = [(await client.post("/messages", json=message(), headers=AUTH)).json()["ids"][0] for _ in range(3)]
    r = await client.post(f"/messages/{ids[0]}/urgent", json={"reason": "because", "text": "x"}, headers=AUTH)
    assert r.status_code == 422
    r = await client.post(f"/messages/{ids[0]}/urgent", json={"reason": "emergency"}, headers=AUTH)
    assert r.status_code == 422
    for mid in ids[:2]:  # the test config allows 2 per day
        r = await client.post(f"/messages/{mid}/urgent", json={"reason": "on_call", "text": "pager"}, headers=AUTH)
        assert r.status_code == 200 and r.json()["planned_utc"] == "2026-03-04T10:00:00Z"
        assert r.json()["urgent_reason"] == "on_call"
    r = await client.post(f"/messages/{ids[2]}/urgent", json={"reason": "emergency", "text": "fire"}, headers=AUTH)
    assert r.status_code == 429 and "urgent_per_sender_per_day" in r.json()["error"]
    assert service.queue.read("SELECT count(*) FROM urgent_log")[0][0] == 2


async def test_queue_is_for_the_operator_only(client):
    await client.post("/messages", json=message(), headers=AUTH)
    assert (await client.get("/queue", headers=AUTH)).status_code == 403
    r = await client.get("/queue", headers=OPERATOR)
    assert r.status_code == 200 and r.json()["counts"]["held"] == 1
    assert r.json()["next_due_utc"] == "2026-03-04T14:00:00Z"


async def test_a_sender_cannot_see_another_senders_message(client):
    mid = (await client.post("/messages", json=message(), headers=AUTH)).json()["ids"][0]
    other = {"Authorization": "Bearer token-sender-02"}
    assert (await client.get(f"/messages/{mid}", headers=other)).status_code == 404
    assert (await client.get(f"/messages/{mid}", headers=OPERATOR)).status_code == 200


async def test_healthz_and_openapi_need_no_token(client):
    assert (await client.get("/healthz")).json()["ok"] is True
    spec = (await client.get("/openapi.json")).json()
    assert {"/messages", "/messages/{message_id}", "/messages/{message_id}/urgent", "/queue"} <= set(spec["paths"])
    # no Swagger UI page: it would load cdn.jsdelivr.net script into the guard's origin
    assert (await client.get("/docs")).status_code in (401, 404)
    assert (await client.get("/redoc")).status_code in (401, 404)


RAW_BROKEN = ("From: sender01@example.com\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
              "no boundary line here\r\n")


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "error"), [
    pytest.param("post", "/messages", {"json": message()}, 401, "missing bearer token", id="no-token"),
    pytest.param("post", "/messages", {"json": message(), "headers": {"Authorization": "Bearer nope"}},
                 401, "invalid token", id="bad-token"),
    pytest.param("post", "/messages", {"json": message(sender="sender02@example.com"), "headers": AUTH},
                 403, "may only send as", id="wrong-sender"),
    pytest.param("post", "/messages", {"json": message(recipients=["nobody@example.com"]), "headers": AUTH},
                 404, "unknown recipient", id="unknown-recipient"),
    pytest.param("post", "/messages", {"json": message(body=None, raw=RAW_BROKEN), "headers": AUTH},
                 422, "malformed MIME", id="malformed-mime"),
    pytest.param("post", "/messages", {"json": message(body="x" * 30_000), "headers": AUTH},
                 413, "max_message_bytes", id="oversized"),
    pytest.param("post", "/messages", {"json": {"sender": SENDER}, "headers": AUTH},
                 422, "recipients", id="missing-field"),
    pytest.param("get", "/messages/999", {"headers": AUTH}, 404, "no message 999", id="unknown-id"),
    pytest.param("get", "/nowhere", {}, 404, "Not Found", id="unknown-route"),
])
async def test_every_error_has_one_shape(client, method, path, kwargs, status, error):
    r = await getattr(client, method)(path, **kwargs)
    assert r.status_code == status
    body = r.json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status and error in body["error"]
