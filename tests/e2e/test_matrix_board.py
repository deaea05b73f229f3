"""The incident room's live board on Matrix: one pinned notice, edited in place by check-ins."""

from __future__ import annotations

from structlog.testing import capture_logs

from tests.e2e.matrix_fixtures import MatrixWorld


def _is_board(event: dict[str, object], bot: str) -> bool:
    content = event.get("content")
    return (
        event["sender"] == bot
        and isinstance(content, dict)
        and str(content.get("body", "")).startswith("Status board")
    )


async def test_the_board_is_posted_pinned_and_edited_in_place_after_a_checkin(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await matrix.room_with_bot(power={bot: 50})

    start = await matrix.alice.send(room, "!incident start Teams outage sev 2")
    opened = await matrix.alice.reply_to(room, start)
    board = await matrix.alice.wait_for(room, lambda e: _is_board(e, bot))
    incident_id = opened["content"]["body"].split()[1].rstrip(":")
    await runner.settle()
    pins = await matrix.synapse.request(
        "GET", f"/_matrix/client/v3/rooms/{room}/state/m.room.pinned_events", matrix.alice.user
    )

    assert board["content"]["msgtype"] == "m.notice"
    assert board["content"]["m.mentions"] == {}
    assert "m.relates_to" not in board["content"]
    assert board["content"]["body"].startswith(
        f"Status board — General Hospital — {incident_id} Teams outage (sev 2), period 1"
    )
    assert "<td>❔ Pharmacy</td><td>unknown</td>" in board["content"]["formatted_body"]
    assert pins == {"pinned": [board["event_id"]]}
    refs = await matrix.store.board_refs(incident_id)
    assert [(r.transport, r.channel, r.message_id) for r in refs] == [
        ("matrix", room, board["event_id"])
    ]

    checkin = await matrix.alice.send(room, "!status pharmacy down cabinets on override")
    await matrix.alice.reply_to(room, checkin)
    edit = await matrix.alice.wait_for(
        room,
        lambda e: e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace",
    )

    assert edit["sender"] == bot
    assert edit["content"]["m.relates_to"] == {
        "rel_type": "m.replace",
        "event_id": board["event_id"],
    }
    new = edit["content"]["m.new_content"]
    assert new["msgtype"] == "m.notice"
    assert new["m.mentions"] == {}
    assert edit["content"]["m.mentions"] == {}
    assert edit["content"]["body"] == "* " + new["body"]
    assert (
        "<td>🔴 Pharmacy</td><td>DOWN</td><td>cabinets on override</td>"
        f"<td>{matrix.alice.user.localpart}</td>"
    ) in new["formatted_body"]
    # One board message: the check-in edited it, it did not post a second one.
    boards = [e for e in matrix.alice.events_from(room, bot) if _is_board(e, bot)]
    assert [e["event_id"] for e in boards] == [board["event_id"]]


async def test_without_power_to_pin_the_board_still_posts_and_updates_and_the_commander_is_told(
    matrix: MatrixWorld,
) -> None:
    runner = await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await matrix.room_with_bot()  # the bot has power level 0 here

    with capture_logs() as logs:
        await matrix.alice.send(room, "!incident start Generator test sev 3 drill")
        board = await matrix.alice.wait_for(room, lambda e: _is_board(e, bot))
        await runner.settle()
    await matrix.alice.send(room, "!status lab up")
    edit = await matrix.alice.wait_for(
        room, lambda e: e["content"].get("m.relates_to", {}).get("event_id") == board["event_id"]
    )

    told = await matrix.alice.wait_for(
        room, lambda e: e["content"].get("body", "").startswith("alice")
        and "lacks permissions" in e["content"]["body"]
    )  # fmt: skip
    await matrix.alice.send(room, "!status lab down")  # a second edit: not told again
    await matrix.alice.wait_for(
        room, lambda e: "DOWN" in e["content"].get("m.new_content", {}).get("body", "")
    )
    await runner.settle()

    assert "<td>🟢 Laboratory</td><td>UP</td>" in edit["content"]["m.new_content"]["formatted_body"]
    assert told["content"]["msgtype"] == "m.text"
    assert told["content"]["m.mentions"] == {"user_ids": [matrix.alice.user_id]}
    assert told["content"]["body"] == (
        f"{matrix.alice.user.localpart}: Lifeline lacks permissions in some rooms\n"
        f"The board can't be pinned in: {room}\n"
        f"Fix: in each of these rooms, give {bot} power level 50 (Moderator) "
        "(Room settings → Roles & Permissions)."
    )
    notices = [e for e in matrix.alice.events_from(room, bot) if "lacks permissions" in
               e["content"].get("body", "")]  # fmt: skip
    assert len(notices) == 1
    # It did not even try to pin: it knew its power level from the room's state.
    assert not [entry for entry in logs if entry["event"] == "matrix.not_pinned"]


async def test_the_board_goes_to_the_incident_room_configured_by_alias(
    matrix: MatrixWorld,
) -> None:
    alias = matrix.incident_room_alias("incident")
    await matrix.started_bot()
    bot = matrix.bot.user_id
    incident_room = await matrix.room_with_bot()
    await matrix.point_alias(alias, incident_room)
    elsewhere = await matrix.room_with_bot()

    start = await matrix.alice.send(elsewhere, "!incident start Power failure sev 1")
    await matrix.alice.reply_to(elsewhere, start)
    board = await matrix.alice.wait_for(incident_room, lambda e: _is_board(e, bot))

    incident = await matrix.store.open_incident()
    assert incident is not None
    refs = await matrix.store.board_refs(incident.id)
    assert [(r.channel, r.message_id) for r in refs] == [(incident_room, board["event_id"])]
    assert not [e for e in matrix.alice.events_from(elsewhere, bot) if _is_board(e, bot)]
