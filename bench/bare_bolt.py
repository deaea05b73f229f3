"""The baselines for bench/slack_checkin.py: slack-bolt AsyncApps on the aiohttp adapter whose
only listener acks — with bolt's defaults, or `--pbr` (process_before_response, as Lifeline runs
bolt), or with `--redis-socket` first SETting the text in the bot's own Redis (AOF, appendfsync
always), as any bot that records before it answers must. Runs until SIGTERM.

    python -m bench.bare_bolt PORT API_URL [--pbr] [--redis-socket PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal

from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"


async def serve(
    port: int, api_url: str, process_before_response: bool, redis_socket: str | None
) -> None:
    app = AsyncApp(
        name="bare",
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=process_before_response,
    )
    redis = Redis(unix_socket_path=redis_socket) if redis_socket else None

    @app.command(re.compile(r"^/"))
    async def only_ack(ack, body):  # type: ignore[no-untyped-def]
        if redis is not None:
            await redis.set(f"bench:{body['trigger_id']}", body["text"])
        await ack()

    async def events(request: web.Request) -> web.Response:
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/readyz", ready)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("api_url")
    parser.add_argument("--pbr", action="store_true")
    parser.add_argument("--redis-socket")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.api_url, args.pbr, args.redis_socket))


if __name__ == "__main__":
    main()
