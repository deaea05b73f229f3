"""The Slack transport: slack-bolt's AsyncApp over HTTP (`POST /slack/events`) or Socket Mode,
turning slash commands, mentions and button clicks into Commands and Replies into messages."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.keys import Keys
from bot.metrics import Metrics
from bot.reply import Reply
from bot.router import Router
from bot.settings import Settings
from bot.transports.base import DeliveryFailed, MessageRef
from bot.transports.slack.blocks import ACTION_PREFIX, SlackMessage, escape, render, render_one
from bot.transports.slack.commands import check_prefix, command_text, slash_names
from bot.transports.slack.delivery import RetryPolicy, SlackDelivery
from bot.transports.slack.inbound import CommandBuilder, EventLedger, after_bot_mention, thread_of
from bot.transports.slack.names import DisplayNames

log = structlog.get_logger(__name__)
EVENTS_PATH = "/slack/events"
WORKING = "Working on it…"


@dataclass(frozen=True, repr=False)  # repr=False: the tokens are never printed
class SlackConfig:
    bot_token: str
    signing_secret: str = ""
    app_token: str | None = None  # `xapp-…`: Socket Mode instead of HTTP
    api_url: str = "https://slack.com/api/"
    command_prefix: str = ""
    ack_budget: float = 1.5  # answer in the ack if the command finishes this fast (Slack: 3 s)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        secret = settings.slack_signing_secret
        app_token = settings.slack_app_token
        return cls(
            bot_token=settings.slack_bot_token.get_secret_value(),
            signing_secret=secret.get_secret_value() if secret else "",
            app_token=app_token.get_secret_value() if app_token else None,
            api_url=settings.slack_api_url,
            command_prefix=settings.slack_command_prefix,
        )


class SlackTransport:
    name = "slack"

    def __init__(
        self, config: SlackConfig, router: Router, redis: Redis, keys: Keys, metrics: Metrics
    ) -> None:
        self.config = config
        self._router = router
        self._slash = slash_names(check_prefix(config.command_prefix))
        self.client = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, retry_handlers=[]
        )
        self._session: aiohttp.ClientSession | None = None
        self.delivery = SlackDelivery(self.client, self._http_session, metrics, config.retry)
        self._names = DisplayNames(self.client)
        self._commands = CommandBuilder(self._names)
        self._ledger = EventLedger(redis, keys)
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._authorized = False
        self._checked_at = 0.0
        self.app = AsyncApp(
            name="lifeline",
            client=self.client,
            signing_secret=config.signing_secret,
            process_before_response=True,  # we ack ourselves, then continue in tasks we track
        )
        self._listen()

    @property
    def socket_mode(self) -> bool:
        return self.config.app_token is not None

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(EVENTS_PATH, self._http)

    async def _http(self, request: web.Request) -> web.Response:
        response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        await self._check_auth()
        if self.config.app_token is not None:
            self._socket = AsyncSocketModeHandler(
                self.app, self.config.app_token, web_client=self.client
            )
            self._spawn(self._socket.connect_async())  # type: ignore[no-untyped-call]  # retries on its own until Slack answers
        log.info("slack.started", mode="socket" if self.socket_mode else "http")

    async def stop(self, grace: float = 10.0) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._names.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ready(self) -> bool:
        if not self._authorized and time.monotonic() - self._checked_at > 10:
            await self._check_auth()
        if self._socket is not None:
            return self._authorized and await self._socket.client.is_connected()
        return self._authorized

    async def _check_auth(self) -> None:
        self._checked_at = time.monotonic()
        try:
            auth = await asyncio.wait_for(self.client.auth_test(), 5)
        except Exception as error:  # Slack unreachable or the token refused: not ready yet
            log.error("slack.auth_failed", error=type(error).__name__, detail=str(error)[:200])
            self._authorized = False
            return
        self._authorized = True
        log.info("slack.authorized", team=auth.get("team"), bot=auth.get("user"))

    async def drain(self) -> None:
        """Wait for work that continues after acks (posting, clicks); used by tests and stop."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _http_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise DeliveryFailed(self.name, "-", "transport not started")
        return self._session

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # The Transport protocol ------------------------------------------------------------------

    async def post(self, channel: str, reply: Reply, *, notify: bool = False) -> MessageRef:
        first: MessageRef | None = None
        for message in render(reply, notify=notify):
            data = await self.delivery.call(
                "chat.postMessage", channel=channel, **message.payload()
            )
            if first is None:
                first = MessageRef(self.name, str(data.get("channel", channel)), str(data["ts"]))
        assert first is not None  # render always gives at least one message
        return first

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        message = render_one(reply)
        await self.delivery.call(
            "chat.update", channel=ref.channel, ts=ref.message_id, **message.payload()
        )

    async def pin(self, ref: MessageRef) -> None:
        try:
            await self.delivery.call("pins.add", channel=ref.channel, timestamp=ref.message_id)
        except DeliveryFailed as failure:
            if failure.reason != "already_pinned":
                raise

    # Listeners -------------------------------------------------------------------------------

    def _listen(self) -> None:
        @self.app.command(re.compile(r"^/"))
        async def slash(ack: Any, body: dict[str, Any]) -> None:
            await self._on_slash(ack, body)

        @self.app.event("app_mention")
        async def mention(body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
            await self._on_mention(body, event, context.get("bot_user_id"))

        @self.app.action(re.compile(f"^{ACTION_PREFIX}"))
        async def click(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self._spawn(self._on_click(body))

    async def _on_slash(self, ack: Any, body: dict[str, Any]) -> None:
        name = str(body.get("command", ""))
        slash = self._slash.get(name)
        if slash is None:
            known = ", ".join(self._slash)
            text = f"Lifeline has no {name} command. Its commands are {known}."
            await ack(response_type="ephemeral", text=escape(text))
            return
        command = await self._commands.build(
            f"slack-{body.get('trigger_id') or body.get('command_ts') or time.time_ns()}",
            str(body.get("user_id", "")),
            command_text(slash, str(body.get("text", ""))),
            fallback_name=str(body.get("user_name", "")),
            channel=body.get("channel_id"),
        )
        url = str(body.get("response_url", ""))
        task = asyncio.create_task(self._router.handle(command))
        done, _ = await asyncio.wait({task}, timeout=self.config.ack_budget)
        if not done:  # slow: acknowledge now, answer through response_url when done
            await ack(response_type="ephemeral", text=WORKING)
            self._spawn(self._answer_late(task, url, command.channel or "-"))
            return
        reply = task.result()
        messages = render(reply)
        kind = _response_type(reply)
        await ack(response_type=kind, blocks=messages[0].blocks, text=messages[0].text)
        if len(messages) > 1:
            self._spawn(self._respond_all(url, command.channel or "-", messages[1:], kind))

    async def _answer_late(self, task: asyncio.Task[Reply], url: str, channel: str) -> None:
        reply = await task
        await self._respond_all(url, channel, render(reply), _response_type(reply))

    async def _respond_all(
        self, url: str, channel: str, messages: list[SlackMessage], kind: str
    ) -> None:
        for message in messages:
            payload = {"response_type": kind, "replace_original": False, **message.payload()}
            await self.delivery.respond(url, channel, payload)

    async def _on_mention(
        self, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
    ) -> None:
        if event.get("bot_id") or not event.get("user"):
            return  # another bot (or this one): never answer, never loop
        event_id = str(body.get("event_id") or f"{event.get('channel')}-{event.get('ts')}")
        if not await self._ledger.first_delivery(event_id):
            log.info("slack.event_repeated", event_id=event_id)
            return
        self._spawn(self._answer_mention(event_id, event, bot_user_id))

    async def _answer_mention(
        self, event_id: str, event: dict[str, Any], bot_user_id: str | None
    ) -> None:
        channel = str(event.get("channel", ""))
        thread = thread_of(event) or str(event.get("ts", ""))
        user = str(event.get("user", ""))
        text = after_bot_mention(str(event.get("text", "")), bot_user_id)
        command = await self._commands.build(
            f"slack-{event_id}", user, text, channel=channel, thread=thread
        )
        reply = await self._router.handle(command)
        method = "chat.postEphemeral" if reply.ephemeral else "chat.postMessage"
        extra = {"user": user} if reply.ephemeral else {}
        for message in render(reply):
            await self.delivery.call(
                method, channel=channel, thread_ts=thread, **extra, **message.payload()
            )

    async def _on_click(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body.get("user") or {}
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id", ""))
        source = body.get("message") or {}
        thread = thread_of(source)
        click_id = body.get("trigger_id") or f"{action.get('action_ts')}-{user.get('id')}"
        command = await self._commands.build(
            f"slack-click-{click_id}",
            str(user.get("id", "")),
            str(action.get("value", "")),
            fallback_name=str(user.get("username") or user.get("name") or ""),
            channel=channel,
            thread=thread,
        )
        reply = await self._router.handle(command)
        url = str(body.get("response_url", ""))
        if reply.edit_source:
            message = render_one(reply)
            if container.get("is_ephemeral") or not container.get("message_ts"):
                payload = {"replace_original": True, **message.payload()}
                await self.delivery.respond(url, channel, payload)
            else:
                await self.delivery.call(
                    "chat.update",
                    channel=channel,
                    ts=container["message_ts"],
                    **message.payload(),
                )
            return
        if _response_type(reply) == "ephemeral":
            await self._respond_all(url, channel, render(reply), "ephemeral")
            return
        for message in render(reply):
            await self.delivery.call(
                "chat.postMessage", channel=channel, thread_ts=thread, **message.payload()
            )


def _response_type(reply: Reply) -> str:
    """Confirmations of what was recorded are for everyone; answers to questions, help, errors
    and refusals only for the person who asked."""
    return "in_channel" if reply.outcome == "recorded" and not reply.ephemeral else "ephemeral"


async def _logged(work: Coroutine[Any, Any, Any]) -> None:
    try:
        await work
    except DeliveryFailed:
        pass  # already logged with what was not delivered
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("slack.background_failed")
