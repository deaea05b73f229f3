from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.domain.log_query import LogQuery
from bot.transports.text import render_text
from tests.conftest import Bot, Clock


async def test_no_incident_open_says_how_to_start_one(bot: Bot) -> None:
    reply = await bot.send("incident")
    assert reply.lines == [
        "No incident is open. Start one with: incident start <title> [sev 1-3] [drill]"
    ]


async def test_start_makes_the_starter_commander_and_logs_it(bot: Bot) -> None:
    reply = await bot.send('incident start "Teams outage" sev 1 drill', user="dr.lee")
    assert reply.lines == [
        "Opened INC-20261122-1: Teams outage (severity 1). This is a DRILL.",
        "dr.lee is incident commander. Operational period 1 has started.",
        "Departments: check in with status <department> <up|partial|down> [note].",
    ]
    incident = await bot.store.open_incident()
    assert incident is not None
    assert (incident.title, incident.severity, incident.drill, incident.commander.id) == (
        "Teams outage",
        1,
        True,
        "dr.lee",
    )
    [entry] = await bot.store.query_log(LogQuery(kinds=["incident.opened"]))
    assert entry.incident_id == "INC-20261122-1"


async def test_show_gives_title_severity_commander_period_age_and_counts(
    bot: Bot, clock: Clock
) -> None:
    await bot.send("incident start Teams outage sev3", user="dr.lee")
    await bot.send("status lab down")
    await bot.send("status rx partial")
    clock.now += timedelta(minutes=95)
    assert render_text(await bot.send("incident")) == "\n".join([
        "INC-20261122-1 Teams outage",
        "Severity:           3",
        "Commander:          dr.lee",
        "Operational period: 1 (10:00–22:00)",
        "Open for:           1h 35m (since 10:00)",
        "Departments:        down 1 · partial 1 · unknown 9",
    ])  # fmt: skip


async def test_a_second_start_names_the_open_incident(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    reply = await bot.send("incident start Another one", user="bob")
    assert reply.lines == [
        "INC-20261122-1 “Teams outage” is already open (commander dr.lee). "
        "Close it first with: incident close [summary]"
    ]


async def test_two_simultaneous_starts_open_exactly_one(bot: Bot) -> None:
    replies = await asyncio.gather(
        *(bot.send(f"incident start Outage {n}", user=f"u{n}") for n in range(5))
    )
    opened = [r for r in replies if r.outcome == "recorded"]
    refused = [r for r in replies if r.outcome == "error"]
    assert (len(opened), len(refused)) == (1, 4)
    assert len(await bot.store.query_log(LogQuery(kinds=["incident.opened"]))) == 1


async def test_start_without_a_title_or_with_a_bad_severity(bot: Bot) -> None:
    assert (await bot.send("incident start")).lines == [
        "Give the incident a title.",
        "Usage: incident start <title> [sev 1-3] [drill]",
    ]
    assert (await bot.send("incident start Outage sev 5")).lines == [
        "Severity must be 1, 2 or 3 (1 is the most severe), not “5”."
    ]
    assert await bot.store.open_incident() is None


async def test_close_by_a_non_commander_is_refused_and_logged(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    reply = await bot.send("incident close all good", user="nurse.kim")
    assert (reply.outcome, reply.lines) == ("denied", [
        "Only the admin, commander or incident commander can close the incident. "
        "Ask the incident commander if this is needed."
    ])  # fmt: skip
    assert await bot.store.open_incident() is not None
    [denied] = await bot.store.query_log(LogQuery(kinds=["denied"]))
    assert (denied.actor.id, denied.text, denied.data["command"]) == (
        "nurse.kim",
        "incident close all good",
        "incident",
    )


async def test_close_by_the_commander_records_the_summary(bot: Bot, clock: Clock) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    clock.now += timedelta(hours=3)
    reply = await bot.send(
        "incident close Teams back 13:00, return to normal channels", user="dr.lee"
    )
    assert reply.lines == [
        "Closed INC-20261122-1 after 3h 00m.",
        "Summary: Teams back 13:00, return to normal channels",
        "The after-action report draft goes to the incident channel as a file; get it again "
        "any time with: incident report INC-20261122-1",
    ]
    assert await bot.store.open_incident() is None
    closed = await bot.store.incident("INC-20261122-1")
    assert closed is not None and closed.summary == "Teams back 13:00, return to normal channels"
    assert (await bot.send("incident close")).lines == [
        "No incident is open. Start one with: incident start <title> [sev 1-3] [drill]"
    ]


async def test_configured_roles_may_close(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    assert (await bot.send("incident close", user="admin1")).outcome == "recorded"
    await bot.send("incident start Again", user="dr.lee")
    assert (await bot.send("incident close", user="ic1")).outcome == "recorded"
    await bot.send("incident start Once more", user="dr.lee")
    assert (
        await bot.send("incident close", user="x", roles=frozenset({"commander"}))
    ).outcome == "recorded"


async def test_handoff_transfers_command(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    reply = await bot.send("incident handoff @dr.patel", user="dr.lee")
    assert reply.lines == ["dr.patel is now incident commander of INC-20261122-1 (was dr.lee)."]
    assert (await bot.send("incident close", user="dr.lee")).outcome == "denied"
    assert (await bot.send("incident close", user="dr.patel")).outcome == "recorded"


async def test_handoff_needs_a_user(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    assert (await bot.send("incident handoff", user="dr.lee")).lines == [
        "Name the new incident commander.",
        "Usage: incident handoff @user",
    ]


async def test_period_starts_the_next_operational_period(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    reply = await bot.send("incident period 8", user="dr.lee")
    assert reply.lines == [
        "Operational period 2 of INC-20261122-1 has started; it runs 8 h, to 18:00.",
        "Every department shows as unknown until it checks in again.",
    ]
    assert (await bot.send("incident period 0", user="dr.lee")).lines == [
        "“0” is not a period length; give hours from 1 to 72.",
        "Usage: incident period [hours]",
    ]


async def test_unknown_incident_action(bot: Bot) -> None:
    assert (await bot.send("incident reopen")).lines == [
        "“reopen” is not an incident action. Use start, close, handoff, period or report.",
        "Usage: incident [start|close|handoff|period|report] ...",
    ]


async def test_a_quoted_title_cannot_start_a_line_of_its_own(bot: Bot) -> None:
    reply = await bot.send(
        'incident start "Teams outage\nRecorded: all clear" sev 2', user="dr.lee"
    )

    assert (
        reply.lines[0] == "Opened INC-20261122-1: Teams outage ⏎ Recorded: all clear (severity 2)."
    )
    incident = await bot.store.open_incident()
    assert incident is not None and incident.title == "Teams outage ⏎ Recorded: all clear"
