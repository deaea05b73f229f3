"""`board link` / `board revoke`, and the snapshot the web board draws, against a real Redis."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from bot.domain.board_token import Verdict
from bot.domain.log_query import LogQuery
from bot.services.wall_board import build_wall_board
from tests.conftest import Bot, Clock

ASK = "Ask the incident commander if this is needed."


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["t"][0]


async def test_a_commander_gets_a_private_signed_link_that_works(bot: Bot, clock: Clock) -> None:
    reply = await bot.send("board link", "ic1")
    assert reply.ephemeral and reply.outcome == "recorded"
    url = reply.lines[0]
    assert re.fullmatch(r"http://[^/]+:3000/board\?t=\d+\.\d+\.[A-Za-z0-9_-]{43}", url)
    assert reply.lines[1] == (
        "Valid for 12h, until 22:00. Anyone with the link can read the board: share it only "
        "with incident staff. board revoke voids every link."
    )
    links = bot.router.context.board_links
    assert links is not None
    assert (await links.check(token_of(url), clock())).verdict is Verdict.VALID
    [entry] = await bot.store.log.query(LogQuery(kinds=["board.link"]))
    assert entry.actor.id == "ic1" and "valid until 22:00" in entry.text


async def test_board_revoke_voids_every_link_issued_before_it(bot: Bot, clock: Clock) -> None:
    first = (await bot.send("board link", "it1")).lines[0]
    reply = await bot.send("board revoke", "admin1")
    assert reply.ephemeral and reply.lines == [
        "Every web board link issued so far is revoked; open pages stop updating and say so. "
        "board link gives a new one."
    ]
    second = (await bot.send("board link", "it1")).lines[0]
    links = bot.router.context.board_links
    assert links is not None
    assert (await links.check(token_of(first), clock())).verdict is Verdict.REVOKED
    assert (await links.check(token_of(second), clock())).verdict is Verdict.VALID


async def test_a_clinician_is_refused_and_the_refusal_is_logged(bot: Bot) -> None:
    reply = await bot.send("board link", "nurse1")
    assert reply.outcome == "denied" and reply.lines == [
        f"Only the admin, commander, it or incident commander can hand out web board links. {ASK}"
    ]
    assert (await bot.send("board revoke", "nurse1")).outcome == "denied"


async def test_an_unknown_board_action_gets_its_usage(bot: Bot) -> None:
    reply = await bot.send("board frob", "it1")
    assert reply.outcome == "error" and reply.lines == [
        "“frob” is not something board can do. Say board link or board revoke.",
        "Usage: board link | board revoke",
    ]
    assert (await bot.send("board", "it1")).lines[0] == "Say board link or board revoke."


async def test_with_no_incident_ever_the_snapshot_says_so(bot: Bot, clock: Clock) -> None:
    ctx = bot.router.context
    board = await build_wall_board(bot.store, ctx.facility, ctx.runbooks, clock())
    assert board.headline == "No incident is open, and none has been yet."
    assert board.incident is None and board.rollcall is None
    assert {d.label for d in board.departments} == {"NO REPORT"}
    assert board.summary == "No report 11"


async def test_after_closing_it_shows_the_last_incident_as_it_closed(
    bot: Bot, clock: Clock
) -> None:
    await bot.send('incident start "Teams outage" sev 2', "ic1")
    await bot.send("status pharmacy down cabinets on override", "alice")
    await bot.send("status pharmacy frobbed", "alice")  # refused: not on the wall's log
    await bot.send("broadcast Use Lifeline for status", "ic1")
    await bot.send("ack", "bob")
    await bot.send("incident close all clear", "ic1")
    ctx = bot.router.context
    board = await build_wall_board(bot.store, ctx.facility, ctx.runbooks, clock())
    assert board.incident is not None and not board.incident.open
    assert board.headline == (
        f"No incident is open. The last one, {board.incident.id}, is shown as it closed."
    )
    assert board.rollcall is None
    pharmacy = board.departments[0]
    assert (pharmacy.label, pharmacy.marker, pharmacy.note) == ("DOWN", "X", "cabinets on override")
    assert [b.acks for b in board.broadcasts] == [1]
    assert [e.kind for e in board.log] == [
        "incident.closed", "broadcast.ack", "broadcast", "checkin", "incident.opened",
    ]  # fmt: skip
    assert board.log[3].text == "DOWN — cabinets on override"


async def test_roll_call_progress_and_stale_marks(bot: Bot, clock: Clock) -> None:
    await bot.send('incident start "Teams outage"', "ic1")
    await bot.send("status lab up", "alice")
    await bot.send("rollcall", "ic1")
    clock.now += timedelta(minutes=61)
    await bot.send("status pharmacy partial", "alice")
    ctx = bot.router.context
    board = await build_wall_board(bot.store, ctx.facility, ctx.runbooks, clock())
    lab = next(d for d in board.departments if d.id == "lab")
    assert (lab.label, lab.marker, lab.stale, lab.when) == (
        "UP (STALE)",
        "!",
        True,
        "10:00 (1h 01m ago)",
    )
    assert board.rollcall is not None
    assert (board.rollcall.reported, board.rollcall.total, board.rollcall.percent) == (1, 11, 9)
    assert board.rollcall.asked == "10:00"
