"""@Lifeline mentions (threads, Slack's retries) and button clicks, through signed HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import structlog
from redis.asyncio import Redis

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.reply import Action, Reply
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from handlers import command_specs
from tests.slack_api_stub import Call
from tests.slack_harness import STAFF_NAMES, SlackBot, running_bot


async def checkins(store: Store) -> list[tuple[str | None, str, str]]:
    entries = await store.query_log(LogQuery(kinds=["checkin"], limit=100))
    return [(e.department, str(e.data["state"]), e.actor.name) for e in entries]


# Mentions ----------------------------------------------------------------------------------


async def test_a_mention_in_a_channel_is_answered_in_a_thread_under_it(
    slack: SlackBot, store: Store
) -> None:
    status = await slack.mention(
        "<@UBOT> status lab partial results faxed", event_id="Ev1", ts="1700000300.000100"
    )
    await slack.settle()

    assert status == 200
    [post] = slack.stub.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert post.params["thread_ts"] == "1700000300.000100"
    assert "Recorded: Laboratory is PARTIAL" in post.visible_text()
    assert await checkins(store) == [("lab", "partial", "Dr. Alice Rivera")]


async def test_a_mention_inside_a_thread_is_answered_in_that_thread(slack: SlackBot) -> None:
    await slack.mention(
        "thanks all — <@UBOT> status radiology up", event_id="Ev2", thread_ts="1700000001.000001"
    )
    await slack.settle()

    [post] = slack.stub.calls_to("chat.postMessage")
    assert post.params["thread_ts"] == "1700000001.000001"
    assert "Recorded: Radiology is UP" in post.visible_text()


async def test_a_retried_mention_is_recorded_and_answered_once(
    slack: SlackBot, store: Store
) -> None:
    first = await slack.mention("<@UBOT> status pharmacy down", event_id="Ev3")
    with structlog.testing.capture_logs() as logs:
        retry = await slack.mention("<@UBOT> status pharmacy down", event_id="Ev3", retry_num=1)
        again = await slack.mention("<@UBOT> status pharmacy down", event_id="Ev3", retry_num=2)
    await slack.settle()

    assert (first, retry, again) == (200, 200, 200)
    repeats = [(e["event_id"], e["retry"]) for e in logs if e["event"] == "slack.event_repeated"]
    assert repeats == [("Ev3", "1"), ("Ev3", "2")]
    assert await checkins(store) == [("pharmacy", "down", "Dr. Alice Rivera")]
    assert len(slack.stub.calls_to("chat.postMessage")) == 1


async def test_a_retry_whose_first_delivery_was_lost_is_answered(
    slack: SlackBot, store: Store
) -> None:
    await slack.mention("<@UBOT> status icu partial", event_id="Ev7", retry_num=1)
    await slack.settle()

    assert await checkins(store) == [("icu", "partial", "Dr. Alice Rivera")]
    assert len(slack.stub.calls_to("chat.postMessage")) == 1


async def test_errors_and_help_answer_a_mention_privately(slack: SlackBot, store: Store) -> None:
    await slack.mention("<@UBOT> status pharmcy down", event_id="Ev4", user="U2")
    await slack.settle()

    assert slack.stub.calls_to("chat.postMessage") == []
    [private] = slack.stub.calls_to("chat.postEphemeral")
    assert private.params["user"] == "U2"
    assert "There is no department “pharmcy”. Did you mean pharmacy?" in private.visible_text()
    assert await checkins(store) == []


async def test_messages_from_bots_are_never_answered(slack: SlackBot, store: Store) -> None:
    await slack.mention("<@UBOT> status pharmacy down", event_id="Ev5", bot_id="B2")
    await slack.settle()

    assert slack.stub.calls_to("chat.postMessage") == []
    assert await checkins(store) == []


async def test_a_handoff_by_mention_names_the_new_commander(slack: SlackBot, store: Store) -> None:
    await slack.slash("/incident", "start EHR downtime sev 1", user="ic1")
    await slack.mention("<@UBOT> incident handoff <@U2>", event_id="Ev6", user="ic1")
    await slack.settle()

    incident = await store.open_incident()
    assert incident is not None
    assert incident.commander.id == "U2"
    assert incident.commander.name.split() == ["Sam", "Okafor", "(Pharmacy)"]


# Buttons -----------------------------------------------------------------------------------


async def test_department_buttons_check_in_as_the_user_who_clicks(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/checkin", "pharmacy", user="U1")
    buttons = [
        b for block in ack["blocks"] if block["type"] == "actions" for b in block["elements"]
    ]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Up", "status pharmacy up"),
        ("Partial", "status pharmacy partial"),
        ("Down", "status pharmacy down"),
    ]
    assert ack["response_type"] == "ephemeral"

    status = await slack.click(buttons[1]["value"], user="U2", ephemeral=True)
    await slack.settle()

    assert status == 200
    assert await checkins(store) == [("pharmacy", "partial", "Sam Okafor (Pharmacy)")]
    [post] = slack.stub.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert "Recorded: Pharmacy is PARTIAL" in post.visible_text()


async def test_a_click_that_fails_is_answered_privately(slack: SlackBot, store: Store) -> None:
    await slack.click("status pharmacy sideways", user="U2", hook="oops")
    await slack.settle()

    [answer] = slack.stub.hooks("oops")
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["replace_original"] is False
    assert "“sideways” is not a state" in answer.visible_text()
    assert slack.stub.calls_to("chat.postMessage") == []
    assert await checkins(store) == []


async def _tick(command: Command, words: Words, ctx: Context) -> Reply:
    step = words.tokens[1]
    return Reply(
        title=f"Checklist — step {step} done by {command.actor.name}",
        actions=[Action(label="Undo", command=f"tick undo-{step}")],
        outcome="recorded",
        edit_source=True,
    )


@pytest.fixture
async def ticking(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    """The bot with one more command, whose answer replaces the message its button was on (as
    runbook steps do)."""
    tick = CommandSpec("tick", "test", ("tick <n>",), (), _tick)
    async with running_bot(
        redis_server, facility, users=STAFF_NAMES, commands=[*command_specs(), tick]
    ) as bot:
        yield bot


async def test_an_answer_that_edits_its_source_updates_the_message_in_place(
    ticking: SlackBot,
) -> None:
    board = await ticking.slack.post("C1", Reply(title="Checklist"))

    await ticking.click("tick 3", user="U2", message_ts=board.message_id)
    await ticking.settle()

    [update] = ticking.stub.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("C1", board.message_id)
    message = ticking.stub.messages[("C1", board.message_id)]
    assert "step 3 done by Sam Okafor (Pharmacy)" in Call("m", message.params).visible_text()
    assert len(ticking.stub.calls_to("chat.postMessage")) == 1  # only the original post


async def test_an_ephemeral_source_is_replaced_through_response_url(ticking: SlackBot) -> None:
    await ticking.click("tick 4", user="U2", ephemeral=True, hook="eph")
    await ticking.settle()

    [answer] = ticking.stub.hooks("eph")
    assert answer.params["replace_original"] is True
    assert "step 4 done" in answer.visible_text()
    assert ticking.stub.calls_to("chat.update") == []


async def test_a_click_payload_with_a_bad_signature_does_nothing(
    slack: SlackBot, store: Store
) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(slack.click_payload("status pharmacy down"))})
    status, _ = await slack.post(body, "application/x-www-form-urlencoded", secret="wrong")
    await slack.settle()

    assert status == 401
    assert await checkins(store) == []


async def test_a_mention_with_a_bad_signature_does_nothing(slack: SlackBot, store: Store) -> None:
    body = slack.mention_body("<@UBOT> status pharmacy down", event_id="Ev8")
    status, _ = await slack.post(body, "application/json", secret="wrong")
    await slack.settle()

    assert status == 401
    assert await checkins(store) == []
    assert slack.stub.calls_to("chat.postMessage") == []


async def test_no_token_or_secret_is_ever_logged(slack: SlackBot) -> None:
    from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET

    slack.stub.fail("chat.postMessage", 500, times=10)
    with structlog.testing.capture_logs() as logs:
        await slack.slash("/checkin", "pharmacy down")
        await slack.mention("<@UBOT> status lab up", event_id="Ev9")
        await slack.click("status icu up")
        await slack.settle()

    assert any(entry["event"] == "slack.not_delivered" for entry in logs)
    text = repr(logs)
    assert BOT_TOKEN not in text and BOT_TOKEN[5:] not in text
    assert SIGNING_SECRET not in text
    assert "xoxb" not in repr(slack.slack.config)


async def test_when_the_source_cannot_be_edited_it_is_replaced_through_response_url(
    ticking: SlackBot,
) -> None:
    await ticking.click("tick 5", user="U2", message_ts="1699999999.000001", hook="gone")
    await ticking.settle()

    [refused] = ticking.stub.calls_to("chat.update")
    assert refused.params["ts"] == "1699999999.000001"
    [answer] = ticking.stub.hooks("gone")
    assert answer.params["replace_original"] is True
    assert "step 5 done" in answer.visible_text()
