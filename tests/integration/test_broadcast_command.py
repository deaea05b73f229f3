from __future__ import annotations

import asyncio

from bot.domain.facility import BroadcastPolicy, FacilityConfig
from bot.domain.log_query import LogQuery
from tests.conftest import Bot, BuildLifeline

REFUSED_BROADCAST = (
    "Only the admin, commander or incident commander can send broadcasts. "
    "Ask the incident commander if this is needed."
)


COMMANDER = frozenset({"commander"})


async def open_incident(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")


async def test_staff_cannot_broadcast_and_the_refusal_is_logged(bot: Bot) -> None:
    await open_incident(bot)
    reply = await bot.send("broadcast urgent everyone go home", user="nurse.kim")
    assert (reply.outcome, reply.lines) == ("denied", [REFUSED_BROADCAST])
    [denied] = await bot.store.query_log(LogQuery(kinds=["denied"]))
    assert (denied.actor.id, denied.data["command"]) == ("nurse.kim", "broadcast")
    assert await bot.store.broadcasts.recent() == []


async def test_staff_cannot_run_a_roll_call(bot: Bot) -> None:
    await open_incident(bot)
    reply = await bot.send("rollcall", user="nurse.kim")
    assert reply.lines == [
        "Only the admin, commander or incident commander can run a roll call. "
        "Ask the incident commander if this is needed."
    ]


async def test_the_commander_broadcasts_and_it_is_logged_with_priority(bot: Bot) -> None:
    await open_incident(bot)
    reply = await bot.send(
        "broadcast urgent Do not power on Windows PCs", user="dr.lee", roles=COMMANDER
    )
    assert (reply.outcome, reply.ephemeral) == ("recorded", True)
    assert reply.lines == [
        "Recorded B-1 (Urgent-High); sending it to every broadcast channel and the incident channel.",
        "broadcast B-1 shows who has acknowledged.",
    ]
    [entry] = await bot.store.query_log(LogQuery(kinds=["broadcast"]))
    assert (entry.text, entry.data, entry.incident_id) == (
        "Do not power on Windows PCs",
        {"broadcast": "B-1", "priority": "urgent"},
        "INC-20261122-1",
    )
    broadcast = await bot.store.broadcasts.get("B-1")
    assert broadcast is not None and broadcast.sender_role == "Incident Commander"


async def test_a_broadcast_needs_text(bot: Bot) -> None:
    await open_incident(bot)
    assert (await bot.send("broadcast urgent", user="dr.lee")).lines == [
        "Write the message to send after the priority.",
        "Usage: broadcast [urgent|normal|info] <text>",
    ]


async def test_acks_count_once_per_person_even_when_clicked_twice_at_once(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("broadcast Use Slack for all incident messages", user="dr.lee")
    first, second = await asyncio.gather(
        bot.send("ack B-1", user="rx-lead"), bot.send("ack B-1", user="rx-lead")
    )
    assert sorted([first.lines[0], second.lines[0]]) == [
        "Acknowledged B-1 (1 so far). Thank you.",
        "You already acknowledged B-1 at 10:00.",
    ]
    assert (await bot.send("ack", user="lab-lead")).lines == [
        "Acknowledged B-1 (2 so far). Thank you."
    ]
    assert await bot.store.broadcasts.ack_count("B-1") == 2
    assert len(await bot.store.query_log(LogQuery(kinds=["broadcast.ack"]))) == 2


async def test_ack_of_an_unknown_broadcast_or_none_at_all(bot: Bot) -> None:
    assert (await bot.send("ack")).lines == ["There is no broadcast to acknowledge."]
    assert (await bot.send("ack B-9")).lines == [
        "There is no broadcast B-9. Type broadcast to list recent ones."
    ]


async def test_the_commander_sees_recent_broadcasts_with_counts_and_who_acknowledged(
    bot: Bot,
) -> None:
    await open_incident(bot)
    await bot.send("broadcast info Briefing at 14:00", user="dr.lee")
    await bot.send("ack", user="rx-lead", channel="C-PHARM")
    listing = await bot.send("broadcast", user="dr.lee")
    assert listing.table is not None
    assert listing.table.rows[0].cells == [
        "B-1",
        "info",
        "10:00",
        "dr.lee",
        "1",
        "Briefing at 14:00",
    ]
    detail = await bot.send("broadcast B-1", user="dr.lee")
    assert detail.lines == ["rx-lead (console) at 10:00"]
    assert detail.fields[0].value == "1 person"


async def test_help_shows_each_user_only_what_they_may_run(bot: Bot) -> None:
    staff = [line.split(" ")[0] for line in (await bot.send("help", user="nurse")).lines[:-1]]
    assert staff == ["help", "status", "incident", "runbook", "ack", "note"]
    it = [line.split(" ")[0] for line in (await bot.send("help", user="it1")).lines[:-1]]
    assert it == ["help", "status", "incident", "runbook", "ack", "log", "note", "board"]
    await open_incident(bot)
    commander = [line.split(" ")[0] for line in (await bot.send("help", user="dr.lee")).lines[:-1]]
    assert commander == [
        "help",
        "status",
        "incident",
        "runbook",
        "broadcast",
        "ack",
        "rollcall",
        "log",
        "note",
        "board",
    ]


async def test_handoff_moves_who_may_broadcast(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("incident handoff @dr.patel", user="dr.lee")
    assert (await bot.send("broadcast hello", user="dr.lee")).outcome == "denied"
    assert (await bot.send("broadcast hello", user="dr.patel")).outcome == "recorded"


URGENT_REFUSED = (
    "Only someone with the commander or admin role can send an urgent broadcast: it pings every "
    "channel. Send it without pinging (broadcast normal <text>), or ask an admin to add you to "
    "the commander role in the facility file."
)


async def test_whoever_opened_the_incident_cannot_ping_everyone_by_default(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="nurse.kim")
    reply = await bot.send("broadcast urgent everyone evacuate", user="nurse.kim")

    assert (reply.outcome, reply.lines) == ("denied", [URGENT_REFUSED])
    [denied] = await bot.store.query_log(LogQuery(kinds=["denied"]))
    assert (denied.actor.id, denied.data["reason"]) == ("nurse.kim", URGENT_REFUSED)
    assert await bot.store.broadcasts.recent() == []


async def test_the_incidents_own_commander_may_send_normal_and_info(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="nurse.kim")
    normal = await bot.send("broadcast Use paper downtime forms", user="nurse.kim")
    info = await bot.send("broadcast info Briefing at 14:00", user="nurse.kim")

    assert (normal.outcome, info.outcome) == ("recorded", "recorded")
    assert [b.priority for b in await bot.store.broadcasts.recent()] == ["info", "normal"]


async def test_configured_commanders_and_admins_may_send_urgent(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="nurse.kim")
    by_commander = await bot.send("broadcast urgent Do not log in", user="ic1")
    by_admin = await bot.send("broadcast urgent Still do not log in", user="admin1")

    assert (by_commander.outcome, by_admin.outcome) == ("recorded", "recorded")


async def test_a_facility_may_let_the_incident_commander_send_urgent(
    build_bot_lifeline: BuildLifeline, facility: FacilityConfig
) -> None:
    relaxed = facility.model_copy(
        update={"broadcast_policy": BroadcastPolicy(urgent_needs_role=False)}
    )
    bot = Bot(await build_bot_lifeline(facility=relaxed))
    await bot.send("incident start Teams outage", user="nurse.kim")
    reply = await bot.send("broadcast urgent Do not log in", user="nurse.kim")

    assert reply.outcome == "recorded"
    staff = await bot.send("broadcast urgent me too", user="someone.else")
    assert (staff.outcome, staff.lines) == ("denied", [REFUSED_BROADCAST])


async def test_help_broadcast_states_the_policy(bot: Bot) -> None:
    text = await bot.text("help broadcast")
    assert (
        "urgent pings every channel, so it needs the commander or admin role (unless the "
        "facility file sets broadcast_policy: {urgent_needs_role: false}); the incident's own "
        "commander may send normal and info."
    ) in text
