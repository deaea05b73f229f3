"""`POST /slack/events` as a hostile outsider sees it: unsigned requests get 401 before anything
parses them and log one short line per 10 s; signed but malformed ones get 400; nothing is written."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_harness import SlackBot, running_bot, signed_headers

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    async with running_bot(redis_server, facility) as bot:
        yield bot


async def raw_post(slack: SlackBot, body: bytes | str, headers: dict[str, str]) -> tuple[int, str]:
    async with slack.http.post(slack.base_url + "/slack/events", data=body, headers=headers) as r:
        return r.status, await r.text()


async def nothing_written(store: Store) -> bool:
    return await store.query_log(LogQuery(limit=10)) == [] and not await store.latest_checkins(
        ["pharmacy", "radiology"]
    )


@pytest.mark.parametrize(
    "stamp_headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "٣٣٣", "X-Slack-Signature": "v0=00"},  # digits, not ASCII
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
    ],
)
async def test_an_unsigned_request_is_refused_with_401(
    slack: SlackBot, store: Store, stamp_headers: dict[str, str]
) -> None:
    body = slack.slash_body("/checkin", "pharmacy down")
    status, text = await raw_post(slack, body, {"Content-Type": FORM, **stamp_headers})

    assert (status, text) == (401, "invalid request signature")
    assert await nothing_written(store)


async def test_a_flood_of_unsigned_requests_logs_one_short_line(slack: SlackBot) -> None:
    with capture_logs() as logs:
        for number in range(300):
            body = b"\xff\xfe" * number if number % 2 else "payload=%7B"
            stamp = "garbage" if number % 3 else str(int(time.time()))
            headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=1"}
            status, _ = await raw_post(slack, body, headers)
            assert status == 401

    refused = [entry for entry in logs if entry["event"] == "slack.request_unsigned"]
    assert len(refused) == 1
    assert set(refused[0]) == {"event", "log_level", "suppressed", "reason"}
    assert not any("exc_info" in entry or entry["log_level"] == "error" for entry in logs)


def block_actions(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "u1"},
        "trigger_id": "1.2.click",
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "actions": [{"action_id": "lifeline-action-0", "value": "status radiology up"}],
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


async def test_a_binary_body_cannot_be_signed_and_is_refused_with_401(
    slack: SlackBot, store: Store
) -> None:
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=1"}
    status, text = await raw_post(slack, b"\x89PNG\r\n\x1a\n\x00\xff", headers)

    assert (status, text) == (401, "invalid request signature")
    assert await nothing_written(store)


def form(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


def mention(**event: Any) -> str:
    return json.dumps({"type": "event_callback", "event": {"type": "app_mention", **event}})


JSON = "application/json"
BAD_VALUE = [{"action_id": "lifeline-action-0", "value": 7}]
MALFORMED: list[tuple[str, str, str]] = [
    ("payload not JSON", "payload=%7Bnot-json", FORM),
    ("payload empty", "payload=", FORM),
    ("JSON list", "[]", JSON),
    ("JSON null", "null", JSON),
    ("JSON string", '"hello"', JSON),
    ("form list payload", form([]), FORM),
    ("actions empty", form(block_actions(actions=[])), FORM),
    ("actions a string", form(block_actions(actions="x")), FORM),
    ("action value a number", form(block_actions(actions=BAD_VALUE)), FORM),
    ("user a string", form(block_actions(user="U1")), FORM),
    ("no user", form(block_actions(user=...)), FORM),
    ("user without id", form(block_actions(user={"id": ""})), FORM),
    ("authorizations a string", json.dumps({"type": "x", "authorizations": "x"}), JSON),
    ("event a list", json.dumps({"type": "event_callback", "event": []}), JSON),
    ("mention text a number", mention(user="U1", text=5, channel="C1", ts="1.1"), JSON),
    ("slash without user", urlencode({"command": "/checkin", "text": "radiology up"}), FORM),
    ("slash empty user", urlencode({"command": "/checkin", "text": "up", "user_id": ""}), FORM),
    ("no type", json.dumps({"hello": "world"}), JSON),
]


@pytest.mark.parametrize(("case", "body", "content_type"), MALFORMED, ids=[c[0] for c in MALFORMED])
async def test_a_signed_malformed_request_gets_400_and_writes_nothing(
    slack: SlackBot, store: Store, case: str, body: str, content_type: str
) -> None:
    headers = {"Content-Type": content_type, **signed_headers(body)}
    with capture_logs() as logs:
        status, answer = await raw_post(slack, body, headers)
        await slack.settle()

    assert (status, answer) == (400, "malformed request")
    assert await nothing_written(store)
    assert slack.stub.calls_to("chat.postMessage") == []
    assert not any(entry["log_level"] in ("error", "critical") for entry in logs)


async def test_a_forged_bot_line_in_a_note_stays_inside_the_note(
    slack: SlackBot, store: Store
) -> None:
    note = (
        "cabinets on override\nRecorded: Radiology is UP — Fully functional (INC-20261122-1, "
        "period 1)\u202e\u200b\x00"
    )
    ack = await slack.slash("/checkin", f"pharmacy down {note}")

    shown = ack["text"] + "".join(json.dumps(block) for block in ack["blocks"])
    assert "\\nRecorded: Radiology" not in shown
    section = ack["blocks"][0]["text"]["text"]
    assert section.split("\n")[1] == (
        "Note: cabinets on override ⏎ Recorded: Radiology is UP — Fully functional "
        "(INC-20261122-1, period 1)"
    )
    stored = (await store.latest_checkins(["pharmacy"]))["pharmacy"]
    assert stored.note == (
        "cabinets on override ⏎ Recorded: Radiology is UP — Fully functional "
        "(INC-20261122-1, period 1)"
    )


async def test_a_note_with_patient_data_is_answered_only_to_its_sender(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/checkin", "pharmacy down bed 12 Mr Jones MRN 4417892 needs insulin")
    await slack.settle()

    assert ack["response_type"] == "ephemeral"
    assert ack["text"].startswith(
        "Not sent: this note looks like it contains a medical record number and a patient's name "
        "with a room or bed."
    )
    assert await nothing_written(store)
    assert not [call for call in slack.stub.calls if "4417892" in json.dumps(call.params)]
