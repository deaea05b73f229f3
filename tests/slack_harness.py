"""The whole bot as `python -m bot serve` wires it, on a free port, with Slack's Web API stood in;
and a client that sends Slack's *signed* requests to it."""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.app import Lifeline, build_lifeline
from bot.config.settings import Settings
from bot.config.tuning import RetryPolicy, Tuning
from bot.dispatch.context import CommandSpec
from bot.domain.facility import FacilityConfig
from bot.services.live_board import LiveBoard
from bot.storage.embedded_redis import EmbeddedRedis
from bot.transports.slack import SlackTransport
from bot.web.server import create_web_app
from tests.slack_api_stub import SlackApiStub

STAFF_NAMES = {"U1": "Dr. Alice Rivera", "U2": "Sam Okafor (Pharmacy)", "ic1": "Pat Chen"}
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
APP_TOKEN = "xapp-1-A111-222-abcdef"
FAST_RETRIES = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05)


def signed_headers(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Slack's headers for `body`, signed the way slack_sdk signs (and bolt verifies)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None  # None only when there is no timestamp
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


@dataclass
class SlackBot:
    lifeline: Lifeline
    slack: SlackTransport
    board: LiveBoard
    stub: SlackApiStub
    base_url: str
    http: aiohttp.ClientSession

    _ids = itertools.count(1)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        sent = {
            "Content-Type": content_type,
            **signed_headers(body, secret=secret, timestamp=timestamp),
            **(headers or {}),
        }
        async with self.http.post(self.base_url + "/slack/events", data=body, headers=sent) as r:
            return r.status, await r.text()

    def slash_body(
        self, command: str, text: str, *, user: str = "U1", channel: str = "C1", hook: str = ""
    ) -> str:
        number = next(self._ids)
        return urlencode(
            {
                "token": "legacy", "team_id": "T1", "team_domain": "t", "channel_id": channel,
                "channel_name": "incident", "user_id": user, "user_name": user.lower(),
                "command": command, "text": text, "api_app_id": "A1",
                "response_url": self.stub.hook_url(hook or f"cmd{number}"),
                "trigger_id": f"{number}.1.trigger",
            }
        )  # fmt: skip

    async def slash(self, command: str, text: str = "", **options: Any) -> dict[str, Any]:
        """Sends a signed slash command; returns the ack's JSON body (what Slack shows at once)."""
        status, body = await self.post(
            self.slash_body(command, text, **options), "application/x-www-form-urlencoded"
        )
        assert status == 200, (status, body)
        return json.loads(body) if body else {}

    def mention_body(
        self, text: str, *, event_id: str, user: str = "U1", channel: str = "C1", **event: Any
    ) -> str:
        payload = {
            "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": {"type": "app_mention", "user": user, "text": text, "channel": channel,
                      "ts": event.pop("ts", f"1700000100.{next(self._ids):06d}"),
                      "event_ts": "1700000100.000001", **event},
        }  # fmt: skip
        return json.dumps(payload)

    async def mention(
        self, text: str, *, event_id: str, retry_num: int | None = None, **options: Any
    ) -> int:
        headers = {"X-Slack-Retry-Num": str(retry_num)} if retry_num is not None else {}
        if retry_num is not None:
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        body = self.mention_body(text, event_id=event_id, **options)
        status, _ = await self.post(body, "application/json", headers=headers)
        return status

    def click_payload(
        self,
        value: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        message_ts: str = "1700000000.000001",
        ephemeral: bool = False,
        hook: str = "click",
    ) -> dict[str, Any]:
        number = next(self._ids)
        return {
            "type": "block_actions", "api_app_id": "A1", "token": "legacy",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"},
            "team": {"id": "T1", "domain": "t"}, "trigger_id": f"{number}.2.click",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": ephemeral},
            "channel": {"id": channel, "name": "incident"},
            "message": {"type": "message", "ts": message_ts, "text": "..."},
            "response_url": self.stub.hook_url(hook),
            "actions": [{"action_id": "lifeline-action-0", "block_id": "b", "value": value,
                         "type": "button", "text": {"type": "plain_text", "text": value},
                         "action_ts": f"1700000200.{number:06d}"}],
        }  # fmt: skip

    async def click(self, value: str, **options: Any) -> int:
        body = urlencode({"payload": json.dumps(self.click_payload(value, **options))})
        status, _ = await self.post(body, "application/x-www-form-urlencoded")
        return status

    async def settle(self) -> None:
        """Everything that continues after the acks: replies, events, board and broadcast edits."""
        for _ in range(3):
            await self.slack.drain()
            await self.lifeline.events.drain()
            await self.board.settle()
            await self.lifeline.broadcaster.settle()


@asynccontextmanager
async def running_bot(
    redis_server: EmbeddedRedis,
    facility: FacilityConfig,
    *,
    socket_mode: bool = False,
    prefix: str = "",
    board_interval: float = 0.05,
    users: dict[str, str] | None = None,
    retry: RetryPolicy = FAST_RETRIES,
    commands: Sequence[CommandSpec] | None = None,
    **tuning: Any,
) -> AsyncIterator[SlackBot]:
    """The bot as `python -m bot serve` assembles it; `tuning` overrides the Tuning below."""
    stub = await SlackApiStub(users=dict(users or {"U1": "Dr. Alice Rivera"})).start()
    data_dir = Path(tempfile.mkdtemp(prefix="ll-slack-"))  # exports land here, not in the cwd
    settings = Settings(
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=APP_TOKEN if socket_mode else None,
        slack_api_url=stub.url,
        slack_command_prefix=prefix,
        redis_url=redis_server.url,
        LIFELINE_DATA_DIR=data_dir,
    )
    # Tests check what is answered, not how fast: on a busy machine a loopback call can stall,
    # and the fallbacks (answer through response_url, Slack username) are tested on their own.
    tuned = {
        "edit_interval": board_interval,
        "slack_retry": retry,
        "slack_ack_budget": 5.0,
        "slack_name_timeout": 5.0,
        **tuning,
    }
    lifeline = await build_lifeline(settings, facility, tuning=Tuning(**tuned), commands=commands)
    slack = lifeline.transports["slack"]
    assert isinstance(slack, SlackTransport)
    assert lifeline.live_board is not None
    web_app = create_web_app(lifeline.ready, lifeline.metrics, lifeline.http_routes())
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    http = aiohttp.ClientSession()
    await lifeline.start()
    bot = SlackBot(lifeline, slack, lifeline.live_board, stub, f"http://127.0.0.1:{port}", http)
    try:
        yield bot
    finally:
        await bot.settle()
        await http.close()
        await runner.cleanup()
        await lifeline.close()
        await stub.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
