"""Socket Mode: the bot dials out (apps.connections.open → websocket) and acks every envelope."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_api_stub import Call
from tests.slack_harness import APP_TOKEN, SlackBot, running_bot


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    async with running_bot(redis_server, facility, socket_mode=True) as bot:
        await bot.stub.wait_for(lambda: bot.stub.connections == 1)
        yield bot


def slash_envelope(slack: SlackBot, envelope_id: str, command: str, text: str) -> dict[str, object]:
    payload = dict(parse_qsl(slack.slash_body(command, text), keep_blank_values=True))
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": payload,
    }


def event_envelope(
    slack: SlackBot, envelope_id: str, event_id: str, retry: int
) -> dict[str, object]:
    payload = json.loads(slack.mention_body("<@UBOT> status lab down", event_id=event_id))
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": payload,
    }


async def test_the_bot_connects_with_its_app_token_and_is_ready(slack: SlackBot) -> None:
    [opened] = slack.stub.calls_to("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert await slack.slack.ready()
    async with slack.http.post(slack.base_url + "/slack/events", data="x") as response:
        assert response.status == 404  # no HTTP endpoint in Socket Mode


async def test_a_slash_command_envelope_is_acked_with_the_answer(
    slack: SlackBot, store: Store
) -> None:
    await slack.stub.send_envelope(
        slash_envelope(slack, "env-1", "/checkin", "emergency partial on diversion")
    )
    ack = await slack.stub.wait_for_ack("env-1")

    assert ack["response_type"] == "in_channel"
    assert "Recorded: Emergency Department is PARTIAL" in Call("ack", ack).visible_text()
    latest = (await store.latest_checkins(["emergency"]))["emergency"]
    assert (latest.note, latest.actor.name) == ("on diversion", "Dr. Alice Rivera")


async def test_a_redelivered_event_is_acked_but_recorded_once(
    slack: SlackBot, store: Store
) -> None:
    await slack.stub.send_envelope(event_envelope(slack, "env-2", "EvS1", retry=0))
    await slack.stub.send_envelope(event_envelope(slack, "env-3", "EvS1", retry=1))
    await slack.stub.wait_for_ack("env-2")
    await slack.stub.wait_for_ack("env-3")
    await slack.settle()

    entries = await store.query_log(LogQuery(kinds=["checkin"], limit=10))
    assert [(e.department, e.data["state"]) for e in entries] == [("lab", "down")]
    [reply] = slack.stub.calls_to("chat.postMessage")
    assert "Recorded: Laboratory is DOWN" in reply.visible_text()


async def test_a_dropped_connection_is_reopened_on_its_own(slack: SlackBot, store: Store) -> None:
    await slack.stub.drop_connection()
    await slack.stub.wait_for(lambda: slack.stub.connections == 2)

    await slack.stub.send_envelope(slash_envelope(slack, "env-4", "/checkin", "dietary up"))
    ack = await slack.stub.wait_for_ack("env-4")

    assert ack["response_type"] == "in_channel"
    assert len(slack.stub.calls_to("apps.connections.open")) == 2
    assert "dietary" in await store.latest_checkins(["dietary"])


async def test_a_button_click_envelope_is_acked_and_runs_as_the_clicking_user(
    slack: SlackBot, store: Store
) -> None:
    payload = slack.click_payload("status surgery down cases on hold", user="U1", ephemeral=True)
    await slack.stub.send_envelope(
        {"envelope_id": "env-5", "type": "interactive", "accepts_response_payload": False,
         "payload": payload}
    )  # fmt: skip
    assert await slack.stub.wait_for_ack("env-5") == {}
    await slack.settle()

    latest = (await store.latest_checkins(["surgery"]))["surgery"]
    assert (latest.state.value, latest.note, latest.actor.id) == ("down", "cases on hold", "U1")
    [post] = slack.stub.calls_to("chat.postMessage")
    assert "Recorded: Surgery / OR is DOWN" in post.visible_text()


@pytest.mark.parametrize(
    "payload",
    [
        [],
        None,
        "payload",
        {"type": "block_actions", "user": "U1", "actions": [{"action_id": "lifeline-action-0"}]},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": []},
        {"type": "block_actions", "actions": [{"action_id": "lifeline-action-0",
                                               "value": "status surgery down"}]},
        {"command": "/checkin", "text": "surgery down"},  # no user
        {"type": "event_callback", "event": "app_mention"},
    ],
)  # fmt: skip
async def test_a_malformed_envelope_is_acked_and_dropped_and_the_next_one_works(
    slack: SlackBot, store: Store, payload: object
) -> None:
    await slack.stub.send_envelope(
        {"envelope_id": "bad", "type": "interactive", "accepts_response_payload": False,
         "payload": payload}
    )  # fmt: skip
    assert await slack.stub.wait_for_ack("bad") == {}
    await slack.stub.send_envelope(slash_envelope(slack, "good", "/checkin", "dietary up"))
    await slack.stub.wait_for_ack("good")
    await slack.settle()

    entries = await store.query_log(LogQuery(limit=10))
    assert [(e.kind.value, e.department, e.actor.id) for e in entries] == [
        ("checkin", "dietary", "U1")
    ]
