from __future__ import annotations

import asyncio

from bot.config.tuning import RetryPolicy
from bot.domain.facility import (
    BroadcastTargets,
    Channels,
    ChannelTargets,
    FacilityConfig,
    Roles,
)
from bot.storage.embedded_redis import EmbeddedRedis
from tests.slack_harness import SlackBot, running_bot

TARGETS = tuple(f"CB{n:03d}" for n in range(100))


def facility_with(targets: tuple[str, ...]) -> FacilityConfig:
    return FacilityConfig(
        timezone="America/New_York",
        roles=Roles(commander=("U1",)),  # urgent broadcasts need the role
        channels=Channels(
            incident=ChannelTargets(slack="CINC"), broadcast=BroadcastTargets(slack=targets)
        ),
    )


def copies(bot: SlackBot) -> dict[str, str]:
    """channel → text of the broadcast copy posted there."""
    return {
        m.channel: str(m.params.get("text", "")) + str(m.params.get("blocks", ""))
        for m in bot.stub.messages.values()
        if "General Message" in str(m.params.get("text", "")) + str(m.params.get("blocks", ""))
    }


async def start_incident_and_broadcast(bot: SlackBot, text: str) -> None:
    await bot.slash("/incident", "start Teams outage", channel="CCMD")
    await bot.settle()
    await bot.slash("/broadcast", text, channel="CCMD")
    await bot.settle()


async def test_a_broadcast_to_100_channels_survives_429s_and_500s_and_reaches_all(
    redis: object, redis_server: EmbeddedRedis
) -> None:
    retry = RetryPolicy(attempts=6, backoff=0.01, max_backoff=0.05)
    async with running_bot(redis_server, facility_with(TARGETS), retry=retry) as bot:
        bot.stub.fail_every("chat.postMessage", 10, (429, 500))
        await start_incident_and_broadcast(bot, "urgent Do not power on Windows PCs <!here>")
        delivered = copies(bot)
        assert set(delivered) == {*TARGETS, "CINC", "CCMD"}
        posts = bot.stub.calls_to("chat.postMessage")
        assert len(posts) >= 102 + 10  # every 10th answer was a 429 or 500, and was retried
        for text in delivered.values():
            assert "<!channel>" in text  # urgent: the bot's own mention
            assert "&lt;!here&gt;" in text and "<!here>" not in text  # user text inert
        assert bot.stub.invalid == []


async def test_acks_count_once_per_person_and_every_copy_updates_in_place(
    redis: object, redis_server: EmbeddedRedis
) -> None:
    users = {"U1": "Dr. Lee", "U2": "Rx Lead", "U3": "Lab Lead"}
    async with running_bot(redis_server, facility_with(("CALL",)), users=users) as bot:
        await start_incident_and_broadcast(bot, "Use this workspace for incident messages")
        sender_copy = next(
            m
            for m in bot.stub.messages.values()
            if m.channel == "CCMD" and m.edits == 0 and "General Message" in str(m.params)
        )
        statuses = await asyncio.gather(
            bot.click("ack B-1", user="U2", channel="CALL"),
            bot.click("ack B-1", user="U2", channel="CALL"),
            bot.click("ack B-1", user="U3", channel="CALL"),
        )
        assert statuses == [200, 200, 200]
        await bot.stub.wait_for(lambda: sender_copy.edits >= 1)  # the count's first edit
        await bot.settle()  # coalesced edits: the last one shows the final count
        assert await bot.lifeline.store.broadcasts.ack_count("B-1") == 2
        assert "Acknowledged by 2" in str(sender_copy.params)
        elsewhere = next(m for m in bot.stub.messages.values() if m.channel == "CALL")
        assert "Acknowledged by 2" in str(elsewhere.params)  # every copy carries the count


async def test_a_target_that_keeps_failing_is_reported_to_the_commander_by_name(
    redis: object, redis_server: EmbeddedRedis
) -> None:
    async with running_bot(redis_server, facility_with(("CB000",))) as bot:
        await bot.slash("/incident", "start Teams outage", channel="CCMD")
        await bot.settle()
        posted_before = len(bot.stub.calls_to("chat.postMessage"))
        bot.stub.fail("chat.postMessage", 500, times=4 * 3)  # every copy exhausts its 4 tries
        await bot.slash("/broadcast", "normal Briefing at 14:00", channel="CCMD")
        await bot.settle()
        assert len(bot.stub.calls_to("chat.postMessage")) == posted_before + 12 + 1
        [report] = [
            m for m in bot.stub.messages.values() if "did not reach every channel" in str(m.params)
        ]
        assert report.channel == "CCMD"
        text = str(report.params)
        assert "Delivered to 0 of 3" in text
        assert all(f"slack {c}" in text for c in ("CB000", "CINC", "CCMD"))
