"""Slack over HTTP: signed slash commands into the running bot, answers read off the ack and the
Web API stand-in, writes read off the store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.domain.facility import Department, FacilityConfig
from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_api_stub import Call, _invalid_message
from tests.slack_harness import SlackBot, running_bot

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    async with running_bot(redis_server, facility) as bot:
        yield bot


def shown(message: dict[str, Any]) -> str:
    """What Slack would show of an ack or a posted message (entities still escaped)."""
    return Call("ack", message).visible_text()


async def log_kinds(store: Store) -> list[str]:
    return [entry.kind.value for entry in await store.query_log(LogQuery(limit=100))]


async def test_a_checkin_is_recorded_and_confirmed_in_the_channel(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/checkin", "pharmacy down cabinets on override", user="U1")

    assert ack["response_type"] == "in_channel"
    assert "Recorded: Pharmacy is DOWN" in shown(ack)
    assert "Recorded: Pharmacy is DOWN" in ack["text"]  # the plain-text fallback
    assert _invalid_message(ack) is None
    latest = (await store.latest_checkins(["pharmacy"]))["pharmacy"]
    assert (latest.state.value, latest.note) == ("down", "cabinets on override")
    assert (latest.actor.id, latest.actor.transport) == ("U1", "slack")
    assert latest.actor.name == "Dr. Alice Rivera"  # users.info's display name
    assert len(slack.stub.calls_to("users.info")) == 1


async def test_display_names_are_looked_up_once_per_user(slack: SlackBot, store: Store) -> None:
    for state in ("down", "partial", "up"):
        await slack.slash("/checkin", f"lab {state}", user="U1")

    assert len(slack.stub.calls_to("users.info")) == 1


async def test_an_unknown_user_falls_back_to_the_slack_username(
    slack: SlackBot, store: Store
) -> None:
    await slack.slash("/checkin", "lab up", user="U9NOBODY")

    latest = (await store.latest_checkins(["lab"]))["lab"]
    assert latest.actor.name == "u9nobody"  # the user_name Slack sent with the command


async def test_a_wrong_signature_is_refused_and_nothing_is_recorded(
    slack: SlackBot, store: Store
) -> None:
    body = slack.slash_body("/checkin", "pharmacy down")
    status, _ = await slack.post(body, FORM, secret="not-the-signing-secret")

    assert status == 401
    assert await store.latest_checkins(["pharmacy"]) == {}
    assert await log_kinds(store) == []


async def test_a_stale_timestamp_is_refused_and_nothing_is_recorded(
    slack: SlackBot, store: Store
) -> None:
    body = slack.slash_body("/checkin", "pharmacy down")
    status, _ = await slack.post(body, FORM, timestamp=int(time.time()) - 6 * 60)

    assert status == 401
    assert await store.latest_checkins(["pharmacy"]) == {}
    assert await log_kinds(store) == []


async def test_an_unknown_slash_command_name_is_answered_privately(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/frobnicate", "pharmacy down")

    assert ack["response_type"] == "ephemeral"
    assert ack["text"].startswith("Lifeline has no /frobnicate command. Its commands are /incident")
    assert await log_kinds(store) == []


async def test_an_unknown_command_word_gets_a_suggestion(slack: SlackBot, store: Store) -> None:
    ack = await slack.slash("/lifeline", "stauts pharmacy")

    assert ack["response_type"] == "ephemeral"
    assert "There is no command “stauts”. Did you mean status?" in shown(ack)
    assert await log_kinds(store) == []


async def test_empty_lifeline_shows_help_and_status_the_board_privately(slack: SlackBot) -> None:
    help_ack = await slack.slash("/lifeline", "")
    board_ack = await slack.slash("/lifeline", "status")

    assert help_ack["response_type"] == "ephemeral"
    assert "Lifeline commands" in shown(help_ack)
    assert board_ack["response_type"] == "ephemeral"
    assert "Status board — General Hospital — no incident open" in shown(board_ack)
    assert "Pharmacy" in shown(board_ack)


async def test_a_4000_character_note_is_refused_with_the_limit(
    slack: SlackBot, store: Store
) -> None:
    note = ("cabinets on override " * 200)[:3990].strip()
    ack = await slack.slash("/checkin", "pharmacy down " + note)

    assert ack["response_type"] == "ephemeral"
    assert f"That note is {len(note):,} characters; the limit is 2,000." in shown(ack)
    assert _invalid_message(ack) is None
    assert await store.latest_checkins(["pharmacy"]) == {}


async def test_a_channel_mention_in_a_note_is_stored_as_typed_and_shown_inert(
    slack: SlackBot, store: Store
) -> None:
    # With should_escape, Slack sends a typed @channel as <!channel> and a typed & as &amp;.
    ack = await slack.slash("/checkin", "lab partial <!channel> <@U2> phones &amp; fax only")

    latest = (await store.latest_checkins(["lab"]))["lab"]
    assert latest.note.startswith("<!channel> <@U2|")  # kept verbatim, mention named
    assert latest.note.endswith("phones & fax only")
    everything = shown(ack) + ack["text"]
    assert "&lt;!channel&gt;" in shown(ack)
    assert "<!channel>" not in everything
    assert "<@U2" not in everything
    assert "phones &amp; fax only" in shown(ack)


async def test_an_unknown_department_is_refused_with_a_suggestion(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/checkin", "pharmcy down")

    assert ack["response_type"] == "ephemeral"
    assert "There is no department “pharmcy”. Did you mean pharmacy?" in shown(ack)
    assert await log_kinds(store) == []


async def test_inclog_is_refused_to_a_clinician_and_the_refusal_logged(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/inclog", "pharmacy", user="U1")

    assert ack["response_type"] == "ephemeral"
    assert "Only the" in shown(ack)
    assert await log_kinds(store) == ["denied"]


async def test_inclog_answers_it_staff_privately(slack: SlackBot) -> None:
    await slack.slash("/checkin", "pharmacy down cabinets", user="U1")
    ack = await slack.slash("/inclog", "pharmacy", user="it1")

    assert ack["response_type"] == "ephemeral"
    assert "cabinets" in shown(ack)


async def test_a_slow_command_is_acked_at_once_and_answered_through_response_url(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> None:
    async with running_bot(redis_server, facility, slack_ack_budget=0.0) as slack:
        store = slack.lifeline.store

        started = time.perf_counter()
        ack = await slack.slash("/checkin", "icu partial vents on paper", hook="slow")
        acked_in = time.perf_counter() - started
        await slack.settle()

        assert acked_in < 1.0
        assert ack == {"response_type": "ephemeral", "text": "Working on it…"}
        [answer] = slack.stub.hooks("slow")
        assert answer.params["response_type"] == "in_channel"
        assert "Recorded: Intensive Care is PARTIAL" in answer.visible_text()
        assert "icu" in await store.latest_checkins(["icu"])


async def test_the_readiness_check_includes_slack(slack: SlackBot) -> None:
    async with slack.http.get(slack.base_url + "/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"redis": True, "slack": True}


async def test_a_prefix_renames_every_command(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig, store: Store
) -> None:
    async with running_bot(redis_server, facility, prefix="ll-") as slack:
        renamed = await slack.slash("/ll-checkin", "radiology down pacs offline")
        plain = await slack.slash("/checkin", "radiology up")

    assert renamed["response_type"] == "in_channel"
    assert plain["text"].startswith("Lifeline has no /checkin command.")
    latest = (await store.latest_checkins(["radiology"]))["radiology"]
    assert (latest.state.value, latest.note) == ("down", "pacs offline")


async def test_a_120_row_board_renders_whole_over_several_messages(
    redis: Redis, redis_server: EmbeddedRedis
) -> None:
    departments = tuple(
        Department(id=f"unit-{n:03d}", name=f"Unit {n:03d} " + "ward " * 8) for n in range(120)
    )
    facility = FacilityConfig(departments=departments)
    async with running_bot(redis_server, facility) as slack:
        for n in range(0, 120, 3):
            await slack.slash("/checkin", f"unit-{n:03d} down " + "generator fuel low " * 6)
        ack = await slack.slash("/lifeline", "status", hook="board")
        await slack.settle()

    rest = slack.stub.hooks("board")
    parts = [ack, *(call.params for call in rest)]
    assert len(parts) > 1
    for part in parts:
        assert _invalid_message(part) is None
        assert part["response_type"] == "ephemeral"
    text = "\n".join(shown(part) for part in parts)
    for n in range(120):
        assert f"*Unit {n:03d} ward" in text
    assert text.count("generator fuel low") == 6 * len(range(0, 120, 3))


async def test_slack_can_verify_the_events_url(slack: SlackBot) -> None:
    body = '{"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}'
    status, answer = await slack.post(body, "application/json")

    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV" in answer


async def test_a_slow_name_lookup_does_not_hold_up_the_checkin(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> None:
    async with running_bot(redis_server, facility, slack_name_timeout=0.2) as slack:
        store = slack.lifeline.store
        slack.stub.delays["users.info"] = 1.0

        started = time.perf_counter()
        ack = await slack.slash("/checkin", "lab up", user="U1")

        assert time.perf_counter() - started < 0.9
        assert ack["response_type"] == "in_channel"
        latest = (await store.latest_checkins(["lab"]))["lab"]
        assert latest.actor.name == "u1"  # the username Slack sent, until users.info answers
