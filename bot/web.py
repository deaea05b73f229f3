"""The one aiohttp server: health, readiness and metrics (Slack mounts `/slack/events` here)."""

from __future__ import annotations

import json

from aiohttp import web

from bot.app import Lifeline

LIFELINE_KEY = web.AppKey("lifeline", Lifeline)


def create_web_app(lifeline: Lifeline) -> web.Application:
    app = web.Application()
    app[LIFELINE_KEY] = lifeline
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def _readyz(request: web.Request) -> web.Response:
    checks = await request.app[LIFELINE_KEY].ready()
    status = 200 if all(checks.values()) else 503
    return web.Response(
        status=status, text=json.dumps(checks) + "\n", content_type="application/json"
    )


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[LIFELINE_KEY].metrics.render()
    return web.Response(text=body, content_type="text/plain", charset="utf-8")
