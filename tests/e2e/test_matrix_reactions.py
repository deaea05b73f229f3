"""Broadcasts on Matrix: the copy reaches the room (an urgent one pings it, through every edit), and
a ✅, ✔️ or 👍 reaction on it acknowledges, once per person, like `!ack B-1`; the bot confirms
with its own ✅."""

from __future__ import annotations

from structlog.testing import capture_logs

from bot.domain.facility import BroadcastPolicy
from tests.e2e.matrix_fixtures import MatrixWorld


async def test_a_check_mark_on_a_broadcast_acknowledges_it_once_per_person(
    matrix: MatrixWorld,
) -> None:
    # The facility lets the incident's own commander send urgent broadcasts (the default asks
    # for the commander role): alice opens the incident and pings the room.
    matrix.facility = matrix.facility.model_copy(
        update={"broadcast_policy": BroadcastPolicy(urgent_needs_role=False)}
    )
    await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await matrix.room_with_bot(power={bot: 50})
    for person in (matrix.bob, matrix.mallory):
        await matrix.alice.invite(room, person.user_id)
        await person.join(room)
    opened = await matrix.alice.send(room, "!incident start Teams outage sev 2")
    await matrix.alice.reply_to(room, opened)  # alice is incident commander: she may broadcast

    sent = await matrix.alice.send(room, "!broadcast urgent Use paper downtime forms")
    await matrix.alice.reply_to(room, sent)
    copy = await matrix.alice.wait_for(
        room, lambda e: e["sender"] == bot and e["content"].get("body", "").startswith("@room B-1")
    )
    with capture_logs() as logs:
        await matrix.mallory.react(room, copy["event_id"], "✅")  # not an allowed user
        await matrix.bob.react(room, copy["event_id"], "🎉")  # not an acknowledgement
        await matrix.bob.react(room, copy["event_id"], "👍")  # Element's first quick reaction
        await matrix.bob.react(room, copy["event_id"], "✅\ufe0f")  # again: counts once
        await matrix.bob.react(room, copy["event_id"], "✔️")
        confirmed = await matrix.bob.wait_for(room, lambda e: e["type"] == "m.reaction"
                                              and e["sender"] == bot)  # fmt: skip
        typed = await matrix.alice.send(room, "!ack B-1")
        await matrix.alice.reply_to(room, typed)
    count = await matrix.alice.wait_for(
        room,
        lambda e: "Acknowledged by 2" in e["content"].get("m.new_content", {}).get("body", ""),
    )

    assert copy["content"]["msgtype"] == "m.text"
    assert copy["content"]["m.mentions"] == {"room": True}
    assert copy["content"]["body"].endswith("Acknowledged by 0 · reply !ack B-1")
    assert confirmed["content"]["m.relates_to"] == {
        "rel_type": "m.annotation", "event_id": copy["event_id"], "key": "✅",
    }  # fmt: skip
    # The edit keeps the urgent look (m.text, @room, mentions) and pings nobody again.
    new = count["content"]["m.new_content"]
    assert (new["msgtype"], new["m.mentions"]) == ("m.text", {"room": True})
    assert new["body"].startswith("@room B-1")
    assert new["body"].endswith("Acknowledged by 2 · reply !ack B-1")
    assert count["content"]["msgtype"] == "m.text"
    assert count["content"]["m.mentions"] == {}
    acks = await matrix.store.broadcasts.acks("B-1")
    assert sorted(acks) == sorted([matrix.alice.user_id, matrix.bob.user_id])
    assert acks[matrix.bob.user_id].channel == room
    assert count["content"]["m.relates_to"] == {
        "rel_type": "m.replace",
        "event_id": copy["event_id"],
    }
    commands = [(e["actor"], e["command"], e["outcome"]) for e in logs if e["event"] == "command"]
    assert commands == [
        (matrix.bob.user_id, "ack", "recorded"),
        (matrix.bob.user_id, "ack", "ok"),  # "you already acknowledged": no reply posted
        (matrix.bob.user_id, "ack", "ok"),
        (matrix.alice.user_id, "ack", "recorded"),
    ]
    reactions = [e for e in matrix.alice.events_from(room, bot) if e["type"] == "m.reaction"]
    assert len(reactions) == 1  # one confirmation per copy
    answers = [
        e
        for e in matrix.alice.events_from(room, bot)
        if e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        == copy["event_id"]
    ]
    assert answers == []  # a reaction is answered by a reaction, not a message


async def test_an_incident_room_named_by_alias_gets_one_copy_whose_count_is_kept(
    matrix: MatrixWorld,
) -> None:
    alias = matrix.incident_room_alias("command")
    await matrix.started_bot()
    bot = matrix.bot.user_id
    room = await matrix.room_with_bot()
    await matrix.point_alias(alias, room)
    opened = await matrix.alice.send(room, "!incident start Teams outage sev 2")
    await matrix.alice.reply_to(room, opened)

    sent = await matrix.alice.send(room, "!broadcast Use paper downtime forms")  # by room id
    await matrix.alice.reply_to(room, sent)
    copy = await matrix.alice.wait_for(
        room, lambda e: e["sender"] == bot and e["content"].get("body", "").startswith("B-1")
    )
    typed = await matrix.alice.send(room, "!ack B-1")
    await matrix.alice.reply_to(room, typed)
    await matrix.alice.wait_for(
        room,
        lambda e: "Acknowledged by 1" in e["content"].get("m.new_content", {}).get("body", ""),
    )

    copies = await matrix.store.broadcasts.copies("B-1")
    assert [(ref.channel, ref.message_id) for ref in copies] == [(room, copy["event_id"])]
