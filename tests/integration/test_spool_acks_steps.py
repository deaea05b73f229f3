"""Acks and runbook step marks made while Redis is unreachable are spooled and replayed, in
order, with their original times and actors."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest

from bot.domain.log_query import LogQuery
from bot.storage.embedded_redis import EmbeddedRedis
from tests.conftest import Bot, BuildLifeline, Clock

TEAMS = "Teams / Microsoft 365 outage — fallback communications"
THEN_ACK = (
    "Lifeline cannot reach its database right now. It will be counted, with the time you sent "
    "it, when the database is back. No need to send it again."
)
THEN_STEP = (
    "Lifeline cannot reach its database right now. The step will be marked in the open incident, "
    "with the time you sent it, when the database is back. No need to send it again."
)


@pytest.fixture
async def bot(doomed: EmbeddedRedis, build_bot_lifeline: BuildLifeline) -> Bot:
    bot = Bot(await build_bot_lifeline(redis_url=doomed.url))
    await bot.send("incident start Teams outage", user="dr.lee")
    return bot


def _kill(server: EmbeddedRedis) -> None:
    os.kill(int(server.pidfile.read_text()), signal.SIGKILL)
    assert server._process is not None
    server._process.wait(5)


def _ref(line: str) -> str:
    assert line.startswith("Saved on this server (ref S-"), line
    return line[len("Saved on this server (ref ") :].split(")")[0]


async def _replay(bot: Bot) -> tuple[int, int, int]:
    assert bot.lifeline.replayer is not None
    done = await bot.lifeline.replayer.replay()
    return done.recorded, done.duplicate, done.rejected


async def test_acks_while_redis_is_down_are_counted_once_when_it_is_back(
    bot: Bot, doomed: EmbeddedRedis, clock: Clock
) -> None:
    await bot.send("broadcast normal Use paper downtime forms", user="dr.lee")
    await bot.send("ack", user="carol")  # recorded before the outage
    _kill(doomed)
    clock.now += timedelta(minutes=4)
    latest = await bot.send("ack", user="alice")
    assert (latest.outcome, latest.ephemeral) == ("spooled", True)
    _ref(latest.lines[0])
    assert latest.lines[0].endswith(
        "not yet in the shared log: your acknowledgement of the latest broadcast."
    )
    assert latest.lines[1:] == [THEN_ACK]
    named = await bot.send("ack b-1", user="bob")
    assert named.lines[0].endswith("your acknowledgement of B-1.")
    again = await bot.send("ack B-1", user="carol")  # carol had acknowledged already
    unknown = await bot.send("ack B-9", user="dave")
    assert {r.outcome for r in (named, again, unknown)} == {"spooled"}

    await doomed.start()
    assert await _replay(bot) == (2, 1, 1)  # alice, bob; carol's second; B-9 does not exist
    acks = await bot.store.broadcasts.acks("B-1")
    assert sorted(acks) == ["alice", "bob", "carol"]
    assert acks["alice"].at == clock.now
    entries = await bot.store.query_log(LogQuery(kinds=["broadcast.ack"]))
    assert [e.actor.id for e in reversed(entries)] == ["carol", "alice", "bob"]
    rejected = (bot.lifeline.settings.data_dir.resolve() / "spool" / "rejected.jsonl").read_text()
    assert rejected.count("\n") == 1 and '"B-9"' in rejected


async def test_step_marks_while_redis_is_down_replay_in_order(
    bot: Bot, doomed: EmbeddedRedis, clock: Clock
) -> None:
    _kill(doomed)
    clock.now += timedelta(minutes=7)
    done = await bot.send("runbook teams done 1 cloud service down", user="bob")
    assert (done.outcome, done.ephemeral) == ("spooled", True)
    assert done.lines[0].endswith(f"not yet in the shared log: step 1 of {TEAMS} done.")
    assert done.lines[1:] == [THEN_STEP]
    await bot.send("runbook teams done 2", user="bob")
    clock.now += timedelta(minutes=1)
    undone = await bot.send("runbook teams undo 2", user="carol")
    assert undone.lines[0].endswith(f"step 2 of {TEAMS} reopened.")

    await doomed.start()
    assert await _replay(bot) == (3, 0, 0)
    entries = await bot.store.query_log(LogQuery(kinds=["runbook.step", "runbook.started"]))
    assert [(e.actor.id, e.kind.value, e.data.get("step"), e.data.get("action"))
            for e in reversed(entries)] == [
        ("bob", "runbook.started", None, None),
        ("bob", "runbook.step", 1, "done"),
        ("bob", "runbook.step", 2, "done"),
        ("carol", "runbook.step", 2, "undo"),
    ]  # fmt: skip
    step_one = next(e for e in entries if e.data.get("step") == 1)
    assert (step_one.incident_id, step_one.at.strftime("%H:%M")) == ("INC-20261122-1", "15:07")
    checklist = await bot.send("runbook teams")
    assert any(f.value == "1/12 steps done" for f in checklist.fields)


async def test_a_note_while_redis_is_down_reaches_the_log_in_the_open_incident(
    bot: Bot, doomed: EmbeddedRedis, clock: Clock
) -> None:
    _kill(doomed)
    clock.now += timedelta(minutes=3)
    reply = await bot.send("note generator 2 refuelled", user="bob")
    assert (reply.outcome, reply.ephemeral) == ("spooled", True)
    assert reply.lines[0].endswith("not yet in the shared log: note by bob.")
    assert reply.lines[1:] == [
        "Lifeline cannot reach its database right now. It will reach the shared log, in the open "
        "incident, with the time you sent it, when the database is back. No need to send it "
        "again.",
        "Note: generator 2 refuelled",
    ]
    await doomed.start()
    assert await _replay(bot) == (1, 0, 0)
    [entry] = await bot.store.query_log(LogQuery(kinds=["note"]))
    assert (entry.actor.id, entry.text, entry.incident_id) == (
        "bob",
        "generator 2 refuelled",
        "INC-20261122-1",
    )
    assert entry.at.strftime("%H:%M") == "15:03"
