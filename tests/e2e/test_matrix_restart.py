"""Restarts and outages: same device, no replays, nothing sent meanwhile is lost."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from structlog.testing import capture_logs

from bot.domain.log_query import LogQuery
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.waiting import until


async def _checkins(matrix: MatrixWorld) -> list[tuple[str, str, str]]:
    entries = await matrix.store.query_log(LogQuery(kinds=["checkin"], limit=100))
    return sorted((e.department or "", e.data["state"], e.text) for e in entries)


async def _devices(matrix: MatrixWorld) -> list[str]:
    data = await matrix.synapse.request("GET", "/_matrix/client/v3/devices", matrix.bot)
    return sorted(device["device_id"] for device in data["devices"])


def _answered(matrix: MatrixWorld, room: str) -> list[str]:
    return [
        event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        for event in matrix.alice.events_from(room, matrix.bot.user_id)
        if event["type"] == "m.room.message" and "m.relates_to" in event["content"]
    ]


async def test_a_checkin_sent_while_the_bot_was_down_is_handled_once_after_restart(
    matrix: MatrixWorld,
) -> None:
    first = await matrix.started_bot()
    assert first.transport is not None
    device = first.transport.device_id
    room = await matrix.room_with_bot()
    before = await matrix.alice.send(room, "!status pharmacy down before the restart")
    await matrix.alice.reply_to(room, before)
    await first.stop()

    during = await matrix.alice.send(room, "!status lab partial sent while it was down")
    second = await matrix.started_bot()
    await matrix.alice.reply_to(room, during)
    after = await matrix.alice.send(room, "!status icu up")
    await matrix.alice.reply_to(room, after)

    assert second.transport is not None
    assert second.transport.device_id == device
    assert await _devices(matrix) == sorted({matrix.bot.device_id, device or ""})
    assert _answered(matrix, room) == [before, during, after]
    assert await _checkins(matrix) == [
        ("icu", "up", ""),
        ("lab", "partial", "sent while it was down"),
        ("pharmacy", "down", "before the restart"),
    ]
    lab = (await matrix.store.latest_checkins(["lab"]))["lab"]
    assert lab.actor.name == matrix.alice.user.localpart  # room members known after restart
    saved = json.loads((matrix.data_dir / "matrix" / "login.json").read_text())
    assert (saved["user_id"], saved["device_id"]) == (matrix.bot.user_id, device)
    assert (matrix.data_dir / "matrix" / "login.json").stat().st_mode & 0o077 == 0


async def test_a_long_downtime_is_paged_through_so_no_command_is_lost(
    matrix: MatrixWorld,
) -> None:
    first = await matrix.started_bot(matrix_timeline_limit=2)
    room = await matrix.room_with_bot()
    await first.stop()

    sent = [
        await matrix.alice.send(room, f"!status {dept} down missed {n}")
        for n, dept in enumerate(("pharmacy", "lab", "radiology", "icu", "surgery"))
    ]
    await matrix.alice.send(room, "just chatting, not a command")
    await matrix.started_bot(matrix_timeline_limit=2)
    for event_id in sent:
        await matrix.alice.reply_to(room, event_id)

    assert _answered(matrix, room) == sent
    assert [entry[0] for entry in await _checkins(matrix)] == [
        "icu",
        "lab",
        "pharmacy",
        "radiology",
        "surgery",
    ]


async def test_reconnects_by_itself_when_the_homeserver_goes_away_and_returns(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    transport = runner.transport
    assert transport is not None
    room = await matrix.room_with_bot()
    assert await transport.ready()

    with capture_logs() as logs:
        matrix.synapse.stop()
        await until(_not(transport.ready))
        matrix.synapse.start()
        await until(transport.ready)
    command = await matrix.alice.send(room, "!status lab down after the outage")
    await matrix.alice.reply_to(room, command)

    events = [entry["event"] for entry in logs if entry["event"].startswith("matrix.")]
    assert events[0] == "matrix.disconnected"
    assert events[-1] == "matrix.connected"
    assert events.count("matrix.disconnected") == 1  # one warning per outage, not per retry
    assert await _checkins(matrix) == [("lab", "down", "after the outage")]


def _not(check: Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    async def negated() -> bool:
        return not await check()

    return negated
