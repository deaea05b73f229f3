"""The one aiohttp server: health, readiness and metrics, plus the routes transports serve
(Slack's `POST /slack/events` in HTTP mode)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.observability.metrics import CONTENT_TYPE, Metrics

Readiness = Callable[[], Awaitable[dict[str, bool]]]
ShutdownHook = Callable[[web.Application], Awaitable[None]]
Degraded = Callable[[], dict[str, str]]


def create_web_app(
    readiness: Readiness,
    metrics: Metrics,
    routes: Sequence[web.RouteDef] = (),
    on_shutdown: Sequence[ShutdownHook] = (),
    *,
    degraded: Degraded | None = None,
) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        """503 when a part is down. Up but degraded (a rate-limited homeserver) is still 200,
        with `"status": "degraded"` and why, per part, under `"degraded"`."""
        checks = await readiness()
        status = 200 if all(checks.values()) else 503
        body: dict[str, object] = dict(checks)
        slow = degraded() if degraded is not None else {}
        if slow:
            body.update(status="degraded", degraded=slow)
        return web.Response(
            status=status, text=json.dumps(body) + "\n", content_type="application/json"
        )

    async def metrics_page(request: web.Request) -> web.Response:
        await readiness()  # gauges such as "Redis reachable" are read as of this scrape
        if degraded is not None:
            degraded()  # and "throttled"
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_routes(list(routes))
    app.on_shutdown.extend(on_shutdown)
    return app
