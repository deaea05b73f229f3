"""The web board's routes: the page, its snapshot and its event stream, each behind a signed
link checked on every request, with a strict Content-Security-Policy and nothing that writes."""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import resources

import structlog
from aiohttp import web

from bot.domain.board_token import Checked, Verdict
from bot.domain.facility import FacilityConfig
from bot.domain.timefmt import format_time
from bot.services.board_links import BOARD_PATH, BoardLinks
from bot.web.board_stream import CLOSED, SHUTDOWN, BoardFeed, frame

log = structlog.get_logger(__name__)
Snapshot = Callable[[], Awaitable[str]]

ASK = "Ask an incident commander, IT or an admin for a new one (they type board link in Lifeline)."
REFUSALS = {
    None: "This page needs a board link. " + ASK,
    Verdict.INVALID: "This board link is not valid: it may be mistyped or altered. " + ASK,
    Verdict.EXPIRED: "This board link expired at {expired}. " + ASK,
    Verdict.REVOKED: "This board link was revoked. " + ASK,
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATIC_TYPES = {"board.css": "text/css", "board.js": "text/javascript"}
PING_SECONDS = 15.0


def _static(name: str) -> bytes:
    return (resources.files("bot.web") / "static" / name).read_bytes()


class BoardPage:
    def __init__(
        self,
        links: BoardLinks,
        feed: BoardFeed,
        snapshot: Snapshot,
        facility: FacilityConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._links = links
        self.feed = feed
        self._snapshot = snapshot
        self._facility = facility
        self._clock = clock
        self._page = _static("board.html")
        self._files = {name: _static(name) for name in STATIC_TYPES}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(BOARD_PATH, self.page),
            web.get(f"{BOARD_PATH}/snapshot", self.snapshot),
            web.get(f"{BOARD_PATH}/events", self.events),
            web.get(f"{BOARD_PATH}/static/{{name}}", self.static),
        ]

    async def on_shutdown(self, app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        """End every open stream, so a stopping server is not held up by open pages."""
        await self.feed.close()

    async def _check(self, request: web.Request) -> Checked | str:
        """The token's verdict if valid, else the message that refuses it."""
        text = request.query.get("t")
        if not text:
            return REFUSALS[None]
        checked = await self._links.check(text, self._clock())
        if checked.verdict is Verdict.VALID:
            return checked
        log.info("board.refused", verdict=checked.verdict.value, remote=request.remote)
        expired = ""
        if checked.token is not None:
            expired = format_time(checked.token.expires, self._facility.tz, self._clock())
        return REFUSALS[checked.verdict].format(expired=expired)

    async def page(self, request: web.Request) -> web.Response:
        checked = await self._check(request)
        if isinstance(checked, str):
            return web.Response(
                status=403, body=_refusal_page(checked), content_type="text/html",
                charset="utf-8", headers=SECURITY_HEADERS,
            )  # fmt: skip
        log.info("board.viewed", remote=request.remote)
        return web.Response(
            body=self._page, content_type="text/html", charset="utf-8", headers=SECURITY_HEADERS
        )

    async def snapshot(self, request: web.Request) -> web.Response:
        checked = await self._check(request)
        if isinstance(checked, str):
            return _refusal_json(checked)
        return web.Response(
            text=await self._snapshot(), content_type="application/json", headers=SECURITY_HEADERS
        )

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._files:
            raise web.HTTPNotFound()
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return web.Response(
            body=self._files[name], content_type=STATIC_TYPES[name], headers=headers
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        checked = await self._check(request)
        if isinstance(checked, str):
            return _refusal_json(checked)
        assert checked.token is not None
        stream_headers = {"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
        response = web.StreamResponse(headers={**SECURITY_HEADERS, **stream_headers})
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")  # EventSource reconnects after 2 s
        subscription = self.feed.subscribe(checked.token.generation, checked.token.expires)
        try:
            while True:
                data = await subscription.next(PING_SECONDS)
                if data is SHUTDOWN:
                    break
                if self._clock() >= checked.token.expires:
                    await response.write(frame("closed", json.dumps({"reason": "expired"})))
                    break
                await response.write(b": ping\n\n" if data is None else data)
                if data is CLOSED:
                    break
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away
        finally:
            self.feed.unsubscribe(subscription)
        return response


def _refusal_json(message: str) -> web.Response:
    return web.Response(
        status=403, text=json.dumps({"error": message}), content_type="application/json",
        headers=SECURITY_HEADERS,
    )  # fmt: skip


def _refusal_page(message: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Lifeline board — link refused</title>"
        '<link rel="stylesheet" href="/board/static/board.css"></head>'
        f'<body class="refused"><main><h1>Lifeline board</h1><p id="refusal">{html.escape(message)}'
        "</p></main></body></html>"
    ).encode()
