"""The same check-in sent again by the same person soon after is a resend, not a second entry."""

from __future__ import annotations

from bot.domain.log_query import LogQuery
from tests.conftest import Bot, Clock

RESENT = (
    "Already recorded at 10:00: Pharmacy is DOWN — Non-functional. You sent the same check-in "
    "then, so no second entry was added."
)


async def _checkins(bot: Bot, dept: str = "pharmacy") -> list[str]:
    entries = await bot.store.query_log(LogQuery(departments=[dept]))
    return [f"{e.actor.id} {e.data['state']} {e.text}" for e in reversed(entries)]


async def test_a_resend_with_a_new_id_is_answered_already_recorded(bot: Bot, clock: Clock) -> None:
    first = await bot.send("status pharmacy down cabinets on override", command_id="slack-1")
    assert first.lines[0] == "Recorded: Pharmacy is DOWN — Non-functional (no incident open)"
    clock.now = clock.now.replace(minute=1, second=30)  # 90 s later, a new trigger id
    again = await bot.send("checkin rx red cabinets on override", command_id="slack-2")
    assert (again.lines, again.outcome, again.ephemeral) == ([RESENT], "recorded", True)
    assert await _checkins(bot) == ["alice down cabinets on override"]


async def test_a_retried_delivery_of_the_same_id_still_says_recorded(bot: Bot) -> None:
    await bot.send("status pharmacy down cabinets", command_id="Ev1")
    again = await bot.send("status pharmacy down cabinets", command_id="Ev1")
    assert again.lines[0] == (
        "Recorded (already recorded): Pharmacy is DOWN — Non-functional (no incident open)"
    )
    assert await _checkins(bot) == ["alice down cabinets"]


async def test_a_changed_note_state_or_person_is_a_new_checkin(bot: Bot) -> None:
    await bot.send("status pharmacy down cabinets")
    await bot.send("status pharmacy down cabinets and tubes")
    await bot.send("status pharmacy up")
    await bot.send("status pharmacy down cabinets")  # back to down: a real change, recorded
    await bot.send("status pharmacy down cabinets", user="bob")
    assert await _checkins(bot) == [
        "alice down cabinets",
        "alice down cabinets and tubes",
        "alice up ",
        "alice down cabinets",
        "bob down cabinets",
    ]


async def test_the_same_checkin_under_a_new_incident_period_is_recorded(bot: Bot) -> None:
    await bot.send("status lab up")
    await bot.send("incident start Teams outage")
    reply = await bot.send("status lab up")
    assert (
        reply.lines[0] == "Recorded: Laboratory is UP — Fully functional (INC-20261122-1, period 1)"
    )
    await bot.send("incident period", user="alice")
    reply = await bot.send("status lab up")
    assert (
        reply.lines[0] == "Recorded: Laboratory is UP — Fully functional (INC-20261122-1, period 2)"
    )
    assert len(await _checkins(bot, "lab")) == 3


async def test_the_window_is_measured_between_the_checkins_own_times(
    bot: Bot, clock: Clock
) -> None:
    await bot.send("status pharmacy down cabinets")
    clock.now = clock.now.replace(minute=2, second=1)  # sent 2 min 1 s later: a new check-in
    reply = await bot.send("status pharmacy down cabinets")
    assert reply.lines[0] == "Recorded: Pharmacy is DOWN — Non-functional (no incident open)"
    assert len(await _checkins(bot)) == 2
