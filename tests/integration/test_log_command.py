from __future__ import annotations

from datetime import timedelta

from bot.transports.text import render_text
from tests.conftest import Bot, Clock

IT = frozenset({"it"})


async def seed(bot: Bot, clock: Clock) -> None:
    await bot.send("status pharmacy down cabinets on override", user="rx")
    clock.now += timedelta(minutes=30)
    await bot.send("status lab partial phoning criticals", user="lab")
    clock.now += timedelta(minutes=30)
    await bot.send("status pharmacy partial paper orders by tube", user="rx")


async def test_staff_may_not_read_the_log_and_the_refusal_is_logged(bot: Bot) -> None:
    reply = await bot.send("log", user="nurse")
    assert (reply.outcome, reply.lines) == ("denied", [
        "Only the admin, commander, it or incident commander can read the incident log. "
        "Ask the incident commander if this is needed."
    ])  # fmt: skip
    denied = await bot.send("log denied", user="it1")
    assert denied.table is not None
    assert denied.table.rows[0].cells[1:] == ["denied", "", "nurse", "refused: log"]


async def test_the_log_is_newest_first_with_times_in_the_facility_zone(
    bot: Bot, clock: Clock
) -> None:
    await seed(bot, clock)
    assert render_text(await bot.send("log", roles=IT)) == "\n".join([
        "Incident log — 3 entries, newest first",
        "WHEN   KIND     DEPARTMENT  WHO  WHAT",
        "11:00  checkin  pharmacy    rx   PARTIAL — paper orders by tube",
        "10:30  checkin  lab         lab  PARTIAL — phoning criticals",
        "10:00  checkin  pharmacy    rx   DOWN — cabinets on override",
    ])  # fmt: skip


async def test_filters_by_department_kind_user_and_limit(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    rx = await bot.send("log rx limit 1", roles=IT)
    assert rx.table is not None and [r.cells[4] for r in rx.table.rows] == [
        "PARTIAL — paper orders by tube"
    ]
    by_lab = await bot.send("log checkin by @lab", roles=IT)
    assert by_lab.table is not None and [r.cells[3] for r in by_lab.table.rows] == ["lab"]
    both = await bot.send("log pharmacy lab", roles=IT)
    assert both.table is not None and len(both.table.rows) == 3


async def test_nothing_matching_is_said_plainly(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    reply = await bot.send("log dietary", roles=IT)
    assert reply.lines == ["Nothing in the log matches."]


async def test_bad_filters_get_specific_answers(bot: Bot) -> None:
    usage = "Usage: log [department...] [kind...] [by @user] [since 2h|since 14:00] [limit N]"
    cases = {
        "log since": ["“since” needs a value after it.", usage],
        "log since yesterday": [
            "“yesterday” is not a time; use a duration like 2h or 30m, or a clock time like 14:00",
            usage,
        ],
        "log limit 0": ["The limit must be a number from 1 to 200, not “0”."],
        "log pharmcy": [
            "There is no department or kind “pharmcy”. Did you mean pharmacy? "
            "Kinds: checkin, incident, broadcast, ack, runbook, note, denied.",
            usage,
        ],
    }
    for text, lines in cases.items():
        assert (await bot.send(text, roles=IT)).lines == lines, text
