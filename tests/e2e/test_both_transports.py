"""Slack and Matrix in one process over one store, assembled as `python -m bot serve` does: a
check-in on either shows on the other's live board."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.app import build_lifeline
from bot.config.settings import Settings
from bot.config.tuning import Tuning
from bot.domain.facility import BroadcastTargets, Channels, ChannelTargets, FacilityConfig, Roles
from bot.transports.matrix import MatrixTransport
from bot.transports.slack import SlackTransport
from bot.web.server import create_web_app
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.e2e.matrix_harness import is_membership
from tests.slack_api_stub import Call, SlackApiStub
from tests.slack_harness import BOT_TOKEN, FAST_RETRIES, SIGNING_SECRET, SlackBot

SLACK_CHANNEL = "C1"


@asynccontextmanager
async def both_transports(
    matrix: MatrixWorld, facility: FacilityConfig
) -> AsyncIterator[tuple[SlackBot, MatrixTransport]]:
    stub = await SlackApiStub(users={"U1": "Dr. Alice Rivera"}).start()
    settings = Settings(
        _env_file=None,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=stub.url,
        matrix_homeserver=matrix.synapse.url,
        matrix_user_id=matrix.bot.user_id,
        matrix_password=SecretStr(matrix.bot.password),
        matrix_allowed_users=matrix.allowed,
        redis_url=SecretStr(matrix.redis_url),
        LIFELINE_DATA_DIR=matrix.data_dir,
    )
    tuning = Tuning(edit_interval=0.1, slack_retry=FAST_RETRIES, matrix_sync_timeout_ms=5000)
    lifeline = await build_lifeline(settings, facility, tuning=tuning)
    slack, matrix_transport = lifeline.transports["slack"], lifeline.transports["matrix"]
    assert isinstance(slack, SlackTransport)
    assert isinstance(matrix_transport, MatrixTransport)
    assert lifeline.live_board is not None
    web_app = create_web_app(lifeline.ready, lifeline.metrics, lifeline.http_routes())
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    http = aiohttp.ClientSession()
    await lifeline.start()
    bot = SlackBot(lifeline, slack, lifeline.live_board, stub, f"http://127.0.0.1:{port}", http)
    try:
        await matrix_transport.wait_synced()
        yield bot, matrix_transport
    finally:
        await bot.settle()
        await http.close()
        await runner.cleanup()
        await lifeline.close()
        await stub.stop()


async def test_a_checkin_on_either_transport_updates_the_board_on_both(
    matrix: MatrixWorld,
) -> None:
    alias = f"#incident-{matrix.bot.localpart}:localhost"
    facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        channels=Channels(incident=ChannelTargets(slack=SLACK_CHANNEL, matrix=alias)),
    )
    bot_id = matrix.bot.user_id
    async with both_transports(matrix, facility) as (slack, _):
        room = await matrix.room_with_bot(power={bot_id: 50})
        await matrix.synapse.request(
            "PUT",
            f"/_matrix/client/v3/directory/room/{quote(alias)}",
            matrix.alice.user,
            {"room_id": room},
        )

        await slack.slash("/incident", "start Teams outage sev 2", user="U1", channel="C1")
        await slack.settle()
        matrix_board = await matrix.alice.wait_for(
            room, lambda e: e["sender"] == bot_id and "Status board" in e["content"].get("body", "")
        )
        [slack_ts] = [
            ts
            for (channel, ts), message in slack.stub.messages.items()
            if channel == SLACK_CHANNEL and "Status board" in message.params["text"]
        ]

        # Slack → Matrix
        await slack.slash("/checkin", "pharmacy down from slack", user="U1", channel="C1")
        edit = await matrix.alice.wait_for(
            room,
            lambda e: (
                "from slack" in e["content"].get("m.new_content", {}).get("formatted_body", "")
            ),
        )
        # Matrix → Slack
        command = await matrix.alice.send(room, "!status lab partial from matrix")
        await matrix.alice.reply_to(room, command)
        await slack.stub.wait_for(
            lambda: "from matrix" in slack.stub.messages[(SLACK_CHANNEL, slack_ts)].params["text"]
        )

        assert edit["content"]["m.relates_to"] == {
            "rel_type": "m.replace",
            "event_id": matrix_board["event_id"],
        }
        assert (
            "<td>🔴 Pharmacy</td><td>DOWN</td><td>from slack</td><td>Dr. Alice Rivera</td>"
            in edit["content"]["m.new_content"]["formatted_body"]
        )
        slack_board = Call("board", slack.stub.messages[(SLACK_CHANNEL, slack_ts)].params)
        name = matrix.alice.user.localpart
        row = f":large_yellow_circle: *Laboratory* · PARTIAL · from matrix · {name} · "
        assert row in slack_board.visible_text()
        # One board per transport, edited in place: no second one was posted on either.
        posted = slack.stub.calls_to("chat.postMessage")
        assert [c.params["channel"] for c in posted if "Status board" in c.text] == [SLACK_CHANNEL]
        matrix_boards = [
            e["event_id"]
            for e in matrix.alice.events_from(room, bot_id)
            if e["content"].get("body", "").startswith("Status board")
        ]
        assert matrix_boards == [matrix_board["event_id"]]


async def test_a_broadcast_from_either_transport_reaches_both_and_acks_count_across(
    matrix: MatrixWorld,
) -> None:
    bot_id = matrix.bot.user_id
    # The room exists first, so the configuration can name it; the bot joins on start-up.
    room = await matrix.alice.create_room(invite=[bot_id], power={bot_id: 50})
    facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        roles=Roles(commander=("U1", matrix.alice.user_id)),
        channels=Channels(broadcast=BroadcastTargets(slack=("C2",), matrix=(room,))),
    )
    async with both_transports(matrix, facility) as (slack, _):
        await matrix.alice.wait_for(room, is_membership(bot_id, "join"))

        # Slack → Matrix, acknowledged there with ✅
        await slack.slash("/broadcast", "urgent Do not log in to Windows PCs", user="U1")
        copy = await matrix.alice.wait_for(
            room, lambda e: e["sender"] == bot_id and "B-1" in e["content"].get("body", "")
        )
        await matrix.alice.react(room, copy["event_id"], "✅")
        await slack.stub.wait_for(
            lambda: any(
                "Acknowledged by 1" in c.visible_text() + c.text
                for c in slack.stub.calls_to("chat.update")
            )
        )
        # Matrix → Slack
        sent = await matrix.alice.send(room, "!broadcast info Briefing at 14:00")
        await matrix.alice.reply_to(room, sent)
        await slack.lifeline.events.drain()  # the fan-out has finished
        barrier = await matrix.alice.send(room, "!help ack")
        await matrix.alice.reply_to(room, barrier)  # the room's timeline is complete up to here

        slack_copies = [
            c.visible_text()
            for c in slack.stub.calls_to("chat.postMessage")
            if c.params["channel"] == "C2"
        ]
        assert [("B-1" in text, "B-2" in text) for text in slack_copies] == [
            (True, False),
            (False, True),
        ]
        assert "Briefing at 14:00" in slack_copies[1]

        assert copy["content"]["body"].startswith("@room B-1 · URGENT · General Message")
        assert copy["content"]["m.mentions"] == {"room": True}
        acks = await matrix.store.broadcasts.acks("B-1")
        assert [(a.actor.id, a.actor.transport, a.channel) for a in acks.values()] == [
            (matrix.alice.user_id, "matrix", room)
        ]
        copies = await matrix.store.broadcasts.copies("B-2")
        assert sorted((r.transport, r.channel) for r in copies) == [
            ("matrix", room),
            ("slack", "C2"),
        ]
        in_room = [
            e
            for e in matrix.alice.events_from(room, bot_id)
            if "B-2 · INFO" in e["content"].get("body", "")
        ]
        assert len(in_room) == 1  # one copy: the configured room is also where it was sent
