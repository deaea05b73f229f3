"""While Redis is unreachable, check-ins go to an fsynced local spool and are replayed, once and
in order, with their original times and actors, when it is back."""

from __future__ import annotations

import os
import re
import signal
from datetime import timedelta
from pathlib import Path

from bot.app import Lifeline
from bot.config.tuning import SpoolLimits, Tuning
from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, CheckIn, LogKind, State
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.spool import Spool
from tests.conftest import Bot, BuildLifeline, Clock

SAVED = re.compile(
    r"Saved on this server \(ref (S-[0-9A-F]{6})\), not yet in the shared log: "
    r"Laboratory is DOWN — Non-functional\."
)
SAVED_NEXT = (
    "Lifeline cannot reach its database right now. This check-in will reach the shared log and "
    "the board, with the time you sent it, when the database is back. No need to send it again."
)
NOTHING_RECORDED = (
    "Lifeline cannot reach its database right now, so nothing was recorded. Try again in a "
    "minute; if it keeps happening, tell IT (error ref E-"
)


def _kill(server: EmbeddedRedis) -> None:
    os.kill(int(server.pidfile.read_text()), signal.SIGKILL)
    assert server._process is not None
    server._process.wait(5)


def _journal(lifeline: Lifeline) -> list[Path]:
    return sorted((lifeline.settings.data_dir.resolve() / "spool").glob("*.jsonl"))


def _replayer(lifeline: Lifeline):  # type: ignore[no-untyped-def]
    assert lifeline.replayer is not None
    return lifeline.replayer


async def _lab_log(bot: Bot) -> list[tuple[str, str, str, str]]:
    entries = await bot.store.query_log(LogQuery(departments=["lab"], kinds=["checkin"]))
    return [
        (e.actor.id, str(e.data["state"]), e.text, e.at.strftime("%H:%M"))
        for e in reversed(entries)
    ]


async def test_a_checkin_while_redis_is_down_is_saved_then_replayed_once(
    doomed: EmbeddedRedis, build_bot_lifeline: BuildLifeline, clock: Clock
) -> None:
    bot = Bot(await build_bot_lifeline(redis_url=doomed.url))
    await bot.send("incident start Teams outage", user="ic1")
    _kill(doomed)
    clock.now += timedelta(minutes=5)
    reply = await bot.send("status lab down analyser offline", user="bob")
    assert (reply.outcome, reply.ephemeral) == ("spooled", True)
    assert SAVED.fullmatch(reply.lines[0]), reply.lines[0]
    assert reply.lines[1:] == [SAVED_NEXT, "Note: analyser offline"]
    [journal] = _journal(bot.lifeline)
    assert journal.read_bytes().count(b"\n") == 1  # fsynced before the answer
    saved = journal.read_bytes()

    # Shared state still refuses with today's answer while the database is gone.
    refused = await bot.send("incident close done", user="ic1")
    assert refused.lines[0].startswith(NOTHING_RECORDED)

    await doomed.start()
    done = await _replayer(bot.lifeline).replay()
    assert (done.recorded, done.duplicate, done.rejected) == (1, 0, 0)
    assert _journal(bot.lifeline) == []
    # Original time (10:05 in New York) and actor, filed under the open incident.
    assert await _lab_log(bot) == [("bob", "down", "analyser offline", "15:05")]
    [entry] = await bot.store.query_log(LogQuery(departments=["lab"]))
    assert (entry.incident_id, entry.data["period"]) == ("INC-20261122-1", 1)
    board = await bot.send("status")
    assert board.table is not None
    [lab] = [row for row in board.table.rows if row.cells[0] == "Laboratory"]
    assert lab.cells[1:3] == ["DOWN", "analyser offline"]

    # A crash between replaying and deleting the file: the same file replayed again is a no-op.
    journal.write_bytes(saved)
    again = await _replay_copy(bot.lifeline)
    assert (again.recorded, again.duplicate) == (0, 1)
    assert await _lab_log(bot) == [("bob", "down", "analyser offline", "15:05")]


async def _replay_copy(lifeline: Lifeline):  # type: ignore[no-untyped-def]
    """Replay a journal file nobody holds, as a freshly started process would find it."""
    replayer = _replayer(lifeline)
    assert replayer._spool.adopt_orphans() == 1
    return await replayer.replay()


async def test_spooled_checkins_replay_in_order_and_new_ones_queue_behind_them(
    doomed: EmbeddedRedis, build_bot_lifeline: BuildLifeline, clock: Clock
) -> None:
    bot = Bot(await build_bot_lifeline(redis_url=doomed.url))
    _kill(doomed)
    for minute, (state, note) in enumerate([("down", "power"), ("partial", "ups"), ("up", "")]):
        clock.now = clock.now.replace(minute=minute)
        assert (await bot.send(f"status lab {state} {note}")).outcome == "spooled"
    await doomed.start()
    # Redis is back but the spool is not yet replayed: a new check-in goes behind it.
    clock.now = clock.now.replace(minute=3)
    assert (await bot.send("status lab down again", user="carol")).outcome == "spooled"
    done = await _replayer(bot.lifeline).replay()
    assert (done.recorded, done.duplicate, done.rejected) == (4, 0, 0)
    assert await _lab_log(bot) == [
        ("alice", "down", "power", "15:00"),
        ("alice", "partial", "ups", "15:01"),
        ("alice", "up", "", "15:02"),
        ("carol", "down", "again", "15:03"),
    ]
    latest = await bot.store.latest_checkins(["lab"])
    assert (latest["lab"].state.value, latest["lab"].actor.id) == ("down", "carol")
    after = await bot.send("status lab up fixed")
    assert after.lines[0] == "Recorded: Laboratory is UP — Fully functional (no incident open)"


async def test_the_spool_is_bounded_by_entries_and_age(
    doomed: EmbeddedRedis, build_bot_lifeline: BuildLifeline, clock: Clock
) -> None:
    limits = SpoolLimits(max_entries=2, max_age=timedelta(hours=1))
    bot = Bot(await build_bot_lifeline(redis_url=doomed.url, tuning=Tuning(spool=limits)))
    _kill(doomed)
    assert (await bot.send("status lab down one")).outcome == "spooled"
    clock.now += timedelta(hours=2)
    too_old = await bot.send("status lab down two")
    assert too_old.lines[0].startswith(NOTHING_RECORDED)
    clock.now -= timedelta(hours=2)
    assert (await bot.send("status lab down three")).outcome == "spooled"
    full = await bot.send("status lab down four")
    assert full.lines[0].startswith(NOTHING_RECORDED)
    await doomed.start()
    assert (await _replayer(bot.lifeline).replay()).recorded == 2
    assert [text for _, _, text, _ in await _lab_log(bot)] == ["one", "three"]


async def test_a_spool_left_behind_is_adopted_and_replayed_at_the_next_start(
    build_bot_lifeline: BuildLifeline, tmp_path: Path, clock: Clock
) -> None:
    # What a process that died during an outage leaves in its data dir: a journal nobody locks.
    left = Spool(tmp_path / "var0" / "spool", SpoolLimits(), clock)
    checkin = CheckIn(department="lab", state=State.DOWN, note="left behind",
                      actor=Actor(id="bob", name="Bob", transport="slack"), at=clock.now)  # fmt: skip
    await left.append("checkin", "Ev-1", checkin.at, checkin.model_dump(mode="json"))
    left.close()
    lifeline = await build_bot_lifeline()  # the next process on that data dir (var0)
    await lifeline.start()
    assert _journal(lifeline) == []
    assert await _lab_log(Bot(lifeline)) == [("bob", "down", "left behind", "15:00")]


async def test_two_replicas_spooling_the_same_delivery_record_it_once(
    doomed: EmbeddedRedis, build_bot_lifeline: BuildLifeline
) -> None:
    one = Bot(await build_bot_lifeline(redis_url=doomed.url))
    two = Bot(await build_bot_lifeline(redis_url=doomed.url))
    _kill(doomed)
    for replica in (one, two):  # a Slack retry that reached the other replica
        assert (await replica.send("status lab down", command_id="Ev-7")).outcome == "spooled"
    assert (await two.send("status lab partial", user="bob")).outcome == "spooled"
    await doomed.start()
    for replica in (two, one):
        await _replayer(replica.lifeline).replay()
    assert [(who, state) for who, state, _, _ in await _lab_log(one)] == [
        ("alice", "down"),
        ("bob", "partial"),
    ]
    assert len(await one.store.query_log(LogQuery(kinds=[LogKind.CHECKIN.value]))) == 2
