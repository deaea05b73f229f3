"""The board's event stream over real HTTP: one render per change however many pages watch,
every page ends on the latest state, and revoking links ends open streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import Lifeline
from bot.web.server import create_web_app
from tests.conftest import Bot, BuildLifeline
from tests.waiting import until

DEPARTMENTS = ("pharmacy", "lab", "radiology", "emergency", "icu")


@dataclass
class Viewer:
    """One open page, as EventSource reads the stream: events and their data."""

    events: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def boards(self) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == "board"]


async def watch(http: aiohttp.ClientSession, url: str, viewer: Viewer) -> None:
    async with http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        name, data = "message", ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line == "" and data:
                viewer.events.append((name, json.loads(data)))
                name, data = "message", ""


@pytest.fixture
async def served(build_bot_lifeline: BuildLifeline) -> AsyncIterator[tuple[Lifeline, str]]:
    lifeline = await build_bot_lifeline()
    assert lifeline.board_page is not None
    app = create_web_app(
        lifeline.ready, lifeline.metrics, lifeline.http_routes(), [lifeline.board_page.on_shutdown]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield lifeline, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_hundred_pages_share_one_render_per_change(served: tuple[Lifeline, str]) -> None:
    lifeline, base = served
    bot = Bot(lifeline)
    await bot.send('incident start "Teams outage"', "ic1")
    link = (await bot.send("board link", "ic1")).lines[0]
    events = link.replace(link.split("/board")[0], base).replace("/board?", "/board/events?")
    viewers = [Viewer() for _ in range(100)]
    async with aiohttp.ClientSession() as http:
        tasks = [asyncio.create_task(watch(http, events, v)) for v in viewers]
        await until(lambda: all(v.boards for v in viewers))
        feed = lifeline.board_page.feed
        renders_before = feed.renders
        await asyncio.gather(
            *(
                bot.send(f"status {DEPARTMENTS[n % 5]} {('up', 'down')[n % 2]} note {n}", f"u{n}")
                for n in range(200)
            )
        )
        final = {d.id: (d.state, d.note) for d in (await _snapshot(bot, lifeline)).departments}

        def caught_up(viewer: Viewer) -> bool:
            last = viewer.boards[-1]["departments"]
            return all((d["state"], d["note"]) == final[d["id"]] for d in last)

        await until(lambda: all(caught_up(v) for v in viewers))
        renders = feed.renders - renders_before
        assert 1 <= renders < 50  # coalesced: far fewer renders than check-ins, none per viewer
        assert all(len(v.boards) <= feed.renders for v in viewers)

        await bot.send("board revoke", "ic1")
        await until(lambda: all(t.done() for t in tasks))
        assert all(v.events[-1] == ("closed", {"reason": "revoked"}) for v in viewers)
        async with http.get(events) as refused:
            assert refused.status == 403
            assert (await refused.json())["error"].startswith("This board link was revoked.")


async def _snapshot(bot: Bot, lifeline: Lifeline) -> Any:
    from bot.services.wall_board import build_wall_board

    ctx = bot.router.context
    return await build_wall_board(lifeline.store, ctx.facility, ctx.runbooks, ctx.now())
