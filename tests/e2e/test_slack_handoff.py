"""`incident handoff` on Slack reaches only a real, active, human user; each refusal says why and
the commander stays who they were."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.slack_harness import STAFF_NAMES, SlackBot, running_bot


@pytest.fixture
async def slack(
    redis: Redis, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> AsyncIterator[SlackBot]:
    users = {**STAFF_NAMES, "U3": "Pager Bot", "U4": "Former Nurse"}
    async with running_bot(redis_server, facility, users=users) as bot:
        bot.stub.bots.add("U3")
        bot.stub.deactivated.add("U4")
        await bot.slash("/incident", "start EHR downtime sev 1", user="ic1")
        yield bot


async def commander(store: Store) -> str:
    incident = await store.open_incident()
    assert incident is not None
    return incident.commander.id


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        (
            "@nobody",
            "“@nobody” is not a Slack user. Mention the new commander so Slack links the name: "
            "type @ and pick them from the list (incident handoff @name).",
        ),
        ("<@UBOT>", "Lifeline cannot be incident commander. Hand command to a person."),
        ("<@UBOT|lifeline>", "Lifeline cannot be incident commander. Hand command to a person."),
        ("<@U3>", "Pager Bot is a bot. Command can only be handed to a person."),
        ("<@U4>", "Former Nurse's Slack account is deactivated. Hand command to someone active."),
        (
            "<@U0NOSUCH>",
            "Slack has no user U0NOSUCH in this workspace, so command was not handed over.",
        ),
    ],
)
async def test_a_handoff_to_no_person_is_refused_with_its_reason(
    slack: SlackBot, store: Store, target: str, answer: str
) -> None:
    ack = await slack.slash("/incident", f"handoff {target}", user="ic1")

    assert (ack["response_type"], ack["text"]) == ("ephemeral", answer)
    assert await commander(store) == "ic1"


async def test_a_handoff_is_refused_when_slack_cannot_be_asked(
    slack: SlackBot, store: Store
) -> None:
    slack.stub.fail("users.info", 500, times=10)
    ack = await slack.slash("/incident", "handoff <@U2>", user="ic1")

    assert ack["text"] == (
        "Lifeline could not check that user with Slack just now, so command was not handed "
        "over. Try again in a minute."
    )
    assert await commander(store) == "ic1"


async def test_a_handoff_to_an_active_person_names_them_from_slack(
    slack: SlackBot, store: Store
) -> None:
    ack = await slack.slash("/incident", "handoff <@U2|spoofed name>", user="ic1")

    assert ack["text"].startswith("Sam Okafor (Pharmacy) is now incident commander of INC-")
    assert ack["text"].endswith(" (was Pat Chen).")
    incident = await store.open_incident()
    assert incident is not None
    assert (incident.commander.id, incident.commander.name) == ("U2", "Sam Okafor (Pharmacy)")
