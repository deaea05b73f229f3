"""Commands typed in a Matrix room reach the router and are answered as HTML notices."""

from __future__ import annotations

from bot.domain.models import State
from bot.domain.reply import Reply
from tests.e2e.matrix_fixtures import MatrixWorld


async def test_checkin_is_answered_as_an_html_notice_in_reply_and_recorded(
    matrix: MatrixWorld,
) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()

    command = await matrix.alice.send(room, "!status pharmacy down cabinets on override")
    reply = await matrix.alice.reply_to(room, command)

    assert reply["sender"] == matrix.bot.user_id
    assert reply["content"] == {
        "msgtype": "m.notice",
        "body": "Recorded: Pharmacy is DOWN — Non-functional (no incident open)\n"
        "Note: cabinets on override",
        "format": "org.matrix.custom.html",
        "formatted_body": "Recorded: Pharmacy is DOWN — Non-functional (no incident open)<br>"
        "Note: cabinets on override",
        "m.mentions": {},
        "m.relates_to": {"m.in_reply_to": {"event_id": command}},
    }
    checkin = (await matrix.store.latest_checkins(["pharmacy"]))["pharmacy"]
    assert (checkin.state, checkin.note) == (State.DOWN, "cabinets on override")
    assert (checkin.actor.id, checkin.actor.transport) == (matrix.alice.user_id, "matrix")
    assert checkin.actor.name == matrix.alice.user.localpart  # her display name


async def test_slash_text_is_a_command_and_notices_and_chat_are_not(
    matrix: MatrixWorld,
) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()

    notice = await matrix.alice.send(room, "!status lab down", msgtype="m.notice")
    chat = await matrix.alice.send(room, "status radiology down, anyone else?")
    emote = await matrix.alice.send(room, "!status icu down", msgtype="m.emote")
    edit = await matrix.alice.send(
        room,
        "* !status surgery down",
        **{
            "m.new_content": {"msgtype": "m.text", "body": "!status surgery down"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": chat},
        },
    )
    slash = await matrix.alice.send(room, "/status lab partial phoning results")
    reply = await matrix.alice.reply_to(room, slash)

    assert reply["content"]["body"].startswith("Recorded: Laboratory is PARTIAL")
    answered = {
        event["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        for event in matrix.alice.events_from(room, matrix.bot.user_id)
        if event["type"] == "m.room.message"
    }
    assert answered == {slash}
    assert answered.isdisjoint({notice, chat, emote, edit})
    latest = await matrix.store.latest_checkins(["lab", "radiology", "icu", "surgery"])
    assert {dept: checkin.state for dept, checkin in latest.items()} == {"lab": State.PARTIAL}


async def test_a_bad_command_gets_a_specific_answer_not_silence(matrix: MatrixWorld) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()

    command = await matrix.alice.send(room, "!status pharmcy down")
    reply = await matrix.alice.reply_to(room, command)

    assert reply["content"]["msgtype"] == "m.notice"
    assert "pharmcy" in reply["content"]["body"]
    assert "pharmacy" in reply["content"]["body"]  # did you mean


async def test_html_and_room_mentions_in_user_text_are_inert(matrix: MatrixWorld) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot(power={matrix.bot.user_id: 50})
    note = '<b>bold</b> <a href="https://evil.example/x?a=1&b=2">click</a> @room'

    command = await matrix.alice.send(room, f"!status pharmacy down {note}")
    reply = await matrix.alice.reply_to(room, command)
    board_command = await matrix.alice.send(room, "!status")
    board = await matrix.alice.reply_to(room, board_command)

    escaped = (
        "&lt;b&gt;bold&lt;/b&gt; &lt;a href=&quot;https://evil.example/x?a=1&amp;b=2&quot;&gt;"
        "click&lt;/a&gt; @room"
    )
    assert reply["content"]["formatted_body"].endswith(f"Note: {escaped}")
    assert reply["content"]["body"].endswith(f"Note: {note}")
    assert f"<td>{escaped}</td>" in board["content"]["formatted_body"]
    for event in (reply, board):
        html = event["content"]["formatted_body"]
        assert "<a " not in html
        assert "<b>bold" not in html
        assert event["content"]["m.mentions"] == {}
        assert event["content"]["msgtype"] == "m.notice"
    # Synapse's push rules agree: nothing the bot said notified anyone.
    bot_events = {reply["event_id"], board["event_id"]}
    notified = {n["event"]["event_id"] for n in await matrix.alice.notifications()}
    assert notified & bot_events == set()


async def test_only_the_bot_itself_can_ping_the_room(matrix: MatrixWorld) -> None:
    runner = await matrix.started_bot()
    assert runner.transport is not None
    room = await matrix.room_with_bot(power={matrix.bot.user_id: 50})

    quiet = await runner.transport.post(room, Reply(lines=["Drill @room <i>x</i>"]))
    loud = await runner.transport.post(room, Reply(lines=["Evacuate <wing> B"]), notify=True)
    event = await matrix.alice.wait_for(room, lambda e: e["event_id"] == loud.message_id)

    assert event["content"] == {
        "msgtype": "m.text",
        "body": "@room Evacuate <wing> B",
        "format": "org.matrix.custom.html",
        "formatted_body": "@room Evacuate &lt;wing&gt; B",
        "m.mentions": {"room": True},
    }
    notifications = {
        n["event"]["event_id"]: n["actions"] for n in await matrix.alice.notifications()
    }
    assert quiet.message_id not in notifications
    assert {"set_tweak": "highlight"} in notifications[loud.message_id]


async def test_a_command_in_a_thread_is_answered_in_that_thread(matrix: MatrixWorld) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()
    root = await matrix.alice.send(room, "Pharmacy downtime thread")

    command = await matrix.alice.send(
        room,
        "!status pharmacy partial",
        **{
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root},
            }
        },
    )
    reply = await matrix.alice.reply_to(room, command)

    assert reply["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root,
        "is_falling_back": False,
        "m.in_reply_to": {"event_id": command},
    }


async def test_a_handoff_reaches_only_a_member_of_the_room_who_is_not_the_bot(
    matrix: MatrixWorld,
) -> None:
    await matrix.started_bot()
    room = await matrix.room_with_bot()
    bob = matrix.bob.user_id

    async def answer(text: str) -> str:
        reply = await matrix.alice.reply_to(room, await matrix.alice.send(room, text))
        return str(reply["content"]["body"])

    await answer("!incident start Teams outage")
    assert await answer("!incident handoff @nobody") == (
        "“@nobody” is not a Matrix user. Use their full Matrix id, like @dr.lee:hospital.org "
        "(incident handoff @user:server)."
    )
    assert await answer(f"!incident handoff {matrix.bot.user_id}") == (
        "Lifeline cannot be incident commander. Hand command to a person."
    )
    assert await answer(f"!incident handoff {bob}") == (
        f"{bob} is not in the incident room, so command was not handed over. Invite them first."
    )
    await matrix.alice.invite(room, bob)
    assert await answer(f"!incident handoff {bob}") == (
        f"{bob} has been invited to the incident room but has not joined yet; command can be "
        "handed over once they join."
    )
    incident = await matrix.store.open_incident()
    assert incident is not None and incident.commander.id == matrix.alice.user_id

    await matrix.bob.join(room)
    assert (await answer(f"!incident handoff {bob}")).startswith(
        f"{matrix.bob.user.localpart} is now incident commander of INC-"
    )
    incident = await matrix.store.open_incident()
    assert incident is not None and incident.commander.id == bob
