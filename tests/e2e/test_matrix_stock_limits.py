"""On a stock homeserver: Synapse's default `rc_message` (0.2/s, burst 10) and nothing exempted.
The bot answers everyone, drops nothing, sends nothing twice, and says it is throttled: once in
the incident room (mentioning the commander), in /readyz (degraded, still 200) and in metrics.
These tests assert what arrives, not how fast (bench/matrix_round_trips.py measures that)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.facility import BroadcastTargets, Channels, ChannelTargets, FacilityConfig
from bot.web.server import create_web_app
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.e2e.matrix_harness import BotRunner, Event, replied_to

DEPARTMENTS = ["pharmacy", "lab", "radiology", "emergency", "icu", "surgery", "nursing",
               "blood-bank", "registration", "dietary"]  # fmt: skip
THROTTLED = "Lifeline is being rate-limited by the Matrix homeserver"


def _said(matrix: MatrixWorld, room: str, text: str) -> list[Event]:
    return [
        e
        for e in matrix.alice.events_from(room, matrix.bot.user_id)
        if e["type"] == "m.room.message" and text in e["content"].get("body", "")
    ]


async def _readyz(runner: BotRunner) -> tuple[int, dict[str, object], str]:
    lifeline = runner.lifeline
    assert lifeline is not None
    app = create_web_app(lifeline.ready, lifeline.metrics, degraded=lifeline.degraded)
    async with TestClient(TestServer(app)) as http:
        ready = await http.get("/readyz")
        metrics = await http.get("/metrics")
        return ready.status, json.loads(await ready.text()), await metrics.text()


@pytest.mark.slow
async def test_ten_check_ins_at_once_from_ten_rooms_are_all_answered_and_throttling_is_told(
    matrix: MatrixWorld,
) -> None:
    bot = matrix.bot.user_id
    # Joins count against rc_message: the bot joins its rooms exempted, as it would have joined
    # them long before an incident; then Synapse's default limit applies, with a full bucket.
    await matrix.synapse.unlimit_messages(bot)
    runner = await matrix.started_bot()
    incident_room = await matrix.room_with_bot(power={bot: 50})
    rooms = [await matrix.room_with_bot() for _ in DEPARTMENTS]
    await matrix.synapse.default_limits(bot)
    opened = await matrix.alice.send(incident_room, "!incident start Teams outage sev 2")
    await matrix.alice.reply_to(incident_room, opened)
    # Answer, board and pin so far; ten answers more are past Synapse's burst of 10.

    sent = await asyncio.gather(
        *(
            matrix.alice.send(room, f"!status {dept} up")
            for room, dept in zip(rooms, DEPARTMENTS, strict=True)
        )
    )
    answers = [
        await matrix.alice.reply_to(room, event_id, timeout=90)
        for room, event_id in zip(rooms, sent, strict=True)
    ]
    told = await matrix.alice.wait_for(
        incident_room, lambda e: THROTTLED in e["content"].get("body", ""), timeout=90
    )
    status, ready, metrics = await _readyz(runner)
    await matrix.alice.wait_for(  # the board's last edit is exact: every department is up
        incident_room,
        lambda e: e["content"].get("m.new_content", {}).get("body", "").count("UP") >= 10,
        timeout=90,
    )
    await runner.settle()

    for room, event_id, answer in zip(rooms, sent, answers, strict=True):
        replies = [e for e in matrix.alice.events_from(room, bot) if replied_to(e) == event_id]
        assert [e["event_id"] for e in replies] == [answer["event_id"]]  # once, never twice
        assert answer["content"]["body"].startswith("Recorded:")
    assert len(await matrix.store.latest_checkins(DEPARTMENTS)) == 10
    assert told["content"]["m.mentions"] == {"user_ids": [matrix.alice.user_id]}
    assert f"POST /_synapse/admin/v1/users/{bot}/override_ratelimit" in told["content"]["body"]
    assert len(_said(matrix, incident_room, THROTTLED)) == 1  # once per incident
    assert status == 200  # degraded, not down
    assert ready["status"] == "degraded"
    assert ready["matrix"] is True and ready["redis"] is True
    degraded = ready["degraded"]
    assert isinstance(degraded, dict)
    assert str(degraded["matrix"]).startswith("rate limited by the homeserver (M_LIMIT_EXCEEDED)")
    assert 'lifeline_throttled{transport="matrix"} 1.0' in metrics
    assert 'lifeline_retries_total{reason="rate_limited",transport="matrix"}' in metrics


@pytest.mark.slow
async def test_a_broadcast_reaches_twenty_rooms_at_the_homeservers_rate_and_drops_nothing(
    matrix: MatrixWorld,
) -> None:
    bot = matrix.bot.user_id
    targets = [await matrix.alice.create_room(invite=[bot]) for _ in range(20)]
    incident_room = await matrix.alice.create_room(invite=[bot], power={bot: 50})
    matrix.facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        channels=Channels(
            incident=ChannelTargets(matrix=incident_room),
            broadcast=BroadcastTargets(matrix=tuple(targets)),
        ),
    )
    await matrix.synapse.unlimit_messages(bot)  # joins count against rc_message: see above
    await matrix.started_bot()  # joins all 21 rooms on its first sync (invites)
    for room in [*targets, incident_room]:
        await matrix.alice.wait_for(room, lambda e: e.get("state_key") == bot
                                    and e["content"].get("membership") == "join")  # fmt: skip
    await matrix.synapse.default_limits(bot)
    opened = await matrix.alice.send(incident_room, "!incident start Teams outage sev 2")
    await matrix.alice.reply_to(incident_room, opened)

    sent = await matrix.alice.send(incident_room, "!broadcast Use paper downtime forms")
    answer = await matrix.alice.reply_to(incident_room, sent, timeout=60)
    for room in [*targets, incident_room]:
        await matrix.alice.wait_for(
            room, lambda e: e["content"].get("body", "").startswith("B-1"), timeout=180
        )

    assert answer["content"]["body"].startswith("Recorded B-1 (Non-urgent-Medium)")
    for room in [*targets, incident_room]:
        assert len(_said(matrix, room, "B-1 · NORMAL")) == 1  # one copy each, none dropped
    copies = await matrix.store.broadcasts.copies("B-1")
    assert sorted(ref.channel for ref in copies) == sorted([*targets, incident_room])
