"""The delivery outbox on Slack, in one process: an entry a dead consumer left half-sent is taken
over after its lease without a second copy; counts converge on copies posted after an ack; the
outbox's depth and age are metrics."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from bot.domain.delivery import MessageRef
from bot.domain.reply import Reply
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.outbox import Mark
from tests.e2e.test_metrics import scrape, value
from tests.e2e.test_slack_broadcast import facility_with
from tests.slack_harness import SlackBot, running_bot
from tests.waiting import until

FAST_LEASE = {"outbox_lease": timedelta(seconds=0.3), "outbox_poll": 0.05}


def copies_in(bot: SlackBot, channel: str) -> list[str]:
    return [str(m.params["text"]) for m in bot.stub.copies_in(channel, "General Message")]


async def test_an_entry_a_dead_process_left_half_sent_is_finished_without_a_second_copy(
    redis: Redis, redis_server: EmbeddedRedis
) -> None:
    async with running_bot(redis_server, facility_with(("CB1", "CB2")), **FAST_LEASE) as bot:
        await bot.slash("/incident", "start Teams outage", channel="CCMD")
        await bot.settle()
        outbox = bot.lifeline.store.outbox
        # A "process" that claimed the broadcast's entry, posted to CB1 and died before noting it
        # (its consumer name is not this bot's): the copy is in Slack, the mark says "sending".
        await bot.lifeline.deliverer.stop()
        await bot.slash("/broadcast", "Use paper orders", channel="CCMD")
        await bot.settle()
        [entry] = await outbox.claim_new("dead-process", 10)
        await outbox.mark_sending(entry.id, "slack CB1", "dead-process")
        sent = await bot.slack.post(
            "CB1", Reply(title="B-1 · NORMAL · General Message"), key=f"{entry.id} slack CB1"
        )
        await outbox.mark_sending(entry.id, "slack CB2", "dead-process")  # died mid-post
        assert copies_in(bot, "CB2") == []

        await bot.lifeline.deliverer.start()  # a live consumer: reclaims after the lease
        await until(lambda: all(copies_in(bot, c) for c in ("CB1", "CB2", "CINC", "CCMD")))
        await until(lambda: _depth_is_zero(bot))
        await bot.settle()

        assert {c: len(copies_in(bot, c)) for c in ("CB1", "CB2", "CINC", "CCMD")} == dict.fromkeys(
            ("CB1", "CB2", "CINC", "CCMD"), 1
        )
        history = bot.stub.calls_to("conversations.history")
        assert [c.params["channel"] for c in history] == ["CB1", "CB2"]  # the two left sending
        saved = await bot.lifeline.store.broadcasts.copies("B-1")
        assert MessageRef("slack", "CB1", sent.message_id) in saved  # found, kept, now edited
        assert len(saved) == 4
        takeovers = (await scrape(bot))["lifeline_outbox_takeovers"]
        assert value(takeovers, "lifeline_outbox_takeovers_total", what="reclaimed") == 1
        assert (
            value(takeovers, "lifeline_outbox_takeovers_total", what="found_sent") == 1
        )  # CB1; CB2 was not there
        assert await outbox.marks(entry.id) == {
            target: Mark("sent", bot.lifeline.deliverer.consumer, ref.message_id, ref.channel)
            for target, ref in ((f"slack {ref.channel}", ref) for ref in saved)
        }


async def _depth_is_zero(bot: SlackBot) -> bool:
    depth, _ = await bot.lifeline.store.outbox.depth()
    return depth == 0


async def test_a_copy_posted_after_an_ack_shows_the_count_and_every_copy_converges(
    redis: Redis, redis_server: EmbeddedRedis
) -> None:
    targets = tuple(f"CB{n}" for n in range(12))
    users = {"U1": "Dr. Lee", "U2": "Rx Lead"}
    async with running_bot(redis_server, facility_with(targets), users=users) as bot:
        await bot.slash("/incident", "start Teams outage", channel="CCMD")
        await bot.settle()
        # 14 copies, 8 at a time: the ack lands while the first 8 are in flight (held 1.5 s by
        # the stand-in), so the last 6 are rendered after it.
        bot.stub.delays["chat.postMessage"] = 1.5
        before = bot.stub.arrived["chat.postMessage"]
        await bot.slash("/broadcast", "Use paper orders", channel="CCMD")
        await until(lambda: bot.stub.arrived["chat.postMessage"] >= before + 8)  # 8 in flight
        await bot.slash("/lifeline", "ack B-1", user="U2", channel="CB0")
        await bot.settle()

        channels = (*targets, "CINC", "CCMD")
        texts = {c: copies_in(bot, c) for c in channels}
        assert {c: len(t) for c, t in texts.items()} == dict.fromkeys(channels, 1)
        assert all("Acknowledged by 1" in t[0] for t in texts.values()), texts
        first_posts = [c.text for c in bot.stub.calls_to("chat.postMessage") if "B-1" in c.text]
        assert any("Acknowledged by 0" in t for t in first_posts)  # some went out before it
        assert any("Acknowledged by 1" in t for t in first_posts)  # and some after, with it


async def test_outbox_depth_and_age_are_metrics(redis: Redis, redis_server: EmbeddedRedis) -> None:
    async with running_bot(redis_server, facility_with(("CB1",)), **FAST_LEASE) as bot:
        await bot.lifeline.deliverer.stop()  # nothing is delivered: the board's post waits
        await bot.slash("/incident", "start Teams outage", channel="CCMD")
        await bot.settle()
        waiting = await scrape(bot)
        await bot.lifeline.deliverer.start()
        await until(lambda: _depth_is_zero(bot))
        done = await scrape(bot)

    assert value(waiting["lifeline_outbox_depth"], "lifeline_outbox_depth") == 1
    assert value(waiting["lifeline_outbox_oldest_seconds"], "lifeline_outbox_oldest_seconds") > 0
    assert value(done["lifeline_outbox_depth"], "lifeline_outbox_depth") == 0
    assert value(done["lifeline_outbox_oldest_seconds"], "lifeline_outbox_oldest_seconds") == 0


async def test_the_failure_report_of_a_taken_over_entry_reaches_the_sender_once(
    redis: Redis, redis_server: EmbeddedRedis
) -> None:
    async with running_bot(redis_server, facility_with(("CB1",)), **FAST_LEASE) as bot:
        await bot.slash("/incident", "start Teams outage", channel="CCMD")
        await bot.settle()
        outbox, slack = bot.lifeline.store.outbox, bot.slack
        await bot.lifeline.deliverer.stop()
        await bot.slash("/broadcast", "Use paper orders", channel="CCMD")
        await bot.settle()
        # The dead process: CB1 failed, the other two copies sent, the report posted to the
        # sender but not yet marked sent.
        [entry] = await outbox.claim_new("dead-process", 10)
        await outbox.mark(entry.id, "slack CB1", Mark("failed", "dead-process", reason="gone"))
        for channel in ("CINC", "CCMD"):
            copy = Reply(title="B-1 · NORMAL · General Message")
            ref = await slack.post(channel, copy, key=f"{entry.id} slack {channel}")
            await outbox.mark(
                entry.id, f"slack {channel}", Mark("sent", "dead", ref.message_id, channel)
            )
        report = Reply(title="B-1 did not reach every channel")
        await outbox.mark_sending(entry.id, "slack CCMD report", "dead-process")
        await slack.post("CCMD", report, key=f"{entry.id} slack CCMD report")

        await bot.lifeline.deliverer.start()
        await until(lambda: _depth_is_zero(bot))
        await bot.settle()

        reports = bot.stub.copies_in("CCMD", "did not reach every channel")
        assert len(reports) == 1
        assert copies_in(bot, "CB1") == []  # failed is final: reported, not retried
        assert [len(copies_in(bot, c)) for c in ("CINC", "CCMD")] == [1, 1]
        assert len(await bot.lifeline.store.broadcasts.copies("B-1")) == 2
