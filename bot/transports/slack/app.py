"""The Slack transport: slack-bolt's AsyncApp over HTTP (`POST /slack/events`) or Socket Mode,
turning slash commands, mentions and button clicks into Commands and Replies into messages."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config.settings import Settings
from bot.config.tuning import SLACK_RETRY, RetryPolicy, Tuning
from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed, MessageRef
from bot.domain.reply import Reply
from bot.observability.metrics import Metrics
from bot.transports.slack.blocks import ACTION_PREFIX, render, render_one
from bot.transports.slack.commands import check_prefix, slash_names
from bot.transports.slack.delivery import SlackDelivery
from bot.transports.slack.forms import Forms
from bot.transports.slack.home_tab import EVENTS as HOME_EVENTS
from bot.transports.slack.home_tab import HomeSettings, HomeTab
from bot.transports.slack.inbound import CommandBuilder, DeliveryLedger
from bot.transports.slack.interactions import Interactions
from bot.transports.slack.names import DisplayNames
from bot.transports.slack.outbox_marker import find_outbox_message, outbox_metadata
from bot.transports.slack.people import SlackPeople
from bot.transports.slack.request_gate import RateLimitedLog, Refused, RequestGate
from bot.transports.slack.socket_mode import GuardedSocketModeHandler
from bot.transports.slack.surfaces import listen_for_surfaces

log = structlog.get_logger(__name__)
EVENTS_PATH = "/slack/events"


class _SameTokenTwice(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment as well as taking our client, and warns
    that the client's token wins; they are the same token, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_SAME_TOKEN_TWICE = _SameTokenTwice()


@dataclass(frozen=True, repr=False)  # repr=False: the tokens are never printed
class SlackConfig:
    bot_token: str
    signing_secret: str = ""
    app_token: str | None = None  # `xapp-…`: Socket Mode instead of HTTP
    api_url: str = "https://slack.com/api/"
    command_prefix: str = ""
    ack_budget: float = 1.5  # answer in the ack if the command finishes this fast (Slack: 3 s)
    name_timeout: float = 1.0  # a users.info lookup slower than this falls back to the username
    retry: RetryPolicy = SLACK_RETRY
    lookup_budget: float = 0.25  # a form's pre-set department, looked up this fast or not at all
    home: HomeSettings = field(default_factory=HomeSettings)

    @classmethod
    def from_settings(cls, settings: Settings, tuning: Tuning | None = None) -> SlackConfig:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        tuning = tuning or Tuning()
        secret = settings.slack_signing_secret
        app_token = settings.slack_app_token
        return cls(
            bot_token=settings.slack_bot_token.get_secret_value(),
            signing_secret=secret.get_secret_value() if secret else "",
            app_token=app_token.get_secret_value() if app_token else None,
            api_url=settings.slack_api_url,
            command_prefix=settings.slack_command_prefix,
            ack_budget=tuning.slack_ack_budget,
            name_timeout=tuning.slack_name_timeout,
            retry=tuning.slack_retry,
            lookup_budget=tuning.slack_lookup_budget,
            home=HomeSettings(
                tuning.slack_home_keep, tuning.slack_home_interval, tuning.slack_home_audience
            ),
        )


class SlackTransport:
    name = "slack"

    def __init__(
        self, config: SlackConfig, router: Router, ledger: DeliveryLedger, metrics: Metrics
    ) -> None:
        self.config = config
        self.client = AsyncWebClient(
            token=config.bot_token, base_url=config.api_url, retry_handlers=[]
        )
        self._session: aiohttp.ClientSession | None = None
        self.delivery = SlackDelivery(self.client, self._http_session, metrics, config.retry)
        self.names = DisplayNames(self.client, timeout=config.name_timeout)
        self.bot_user_id: str | None = None  # from auth.test
        self.people = SlackPeople(self.client, lambda: self.bot_user_id, timeout=5.0)
        commands = CommandBuilder(self.names)
        self.home = HomeTab(router.context, self.delivery, config.home)
        router.context.events.subscribe(self.home.on_event, *HOME_EVENTS)
        self.forms = Forms(
            router,
            commands,
            self.delivery,
            self.home,
            self._spawn,
            config.ack_budget,
            config.lookup_budget,
        )
        self.interactions = Interactions(
            router,
            slash_names(check_prefix(config.command_prefix)),
            commands,
            ledger,
            self.delivery,
            self._spawn,
            config.ack_budget,
            self.forms,
        )
        self._socket: GuardedSocketModeHandler | None = None
        self._gate = RequestGate(config.signing_secret)
        self._crashed = RateLimitedLog("slack.request_failed")
        self._tasks: set[asyncio.Task[None]] = set()
        self._authorized = False
        self._checked_at = 0.0
        logging.getLogger("slack_bolt.AsyncApp").addFilter(_SAME_TOKEN_TWICE)
        self.app = AsyncApp(
            name="lifeline",
            client=self.client,
            signing_secret=config.signing_secret,
            process_before_response=True,  # we ack ourselves, then continue in tasks we track
            request_verification_enabled=False,  # RequestGate verifies before anything parses
        )
        self._listen()

    @property
    def socket_mode(self) -> bool:
        return self.config.app_token is not None

    def routes(self) -> list[web.RouteDef]:
        """`POST /slack/events` in HTTP mode, served beside /healthz, /readyz and /metrics."""
        return [] if self.socket_mode else [web.post(EVENTS_PATH, self._http)]

    async def _http(self, request: web.Request) -> web.Response:
        """Verify first, parse second: the signature on the raw bytes, then bolt's parse, then
        the payload's shape, then bolt's listeners. Nothing from outside reaches a 500."""
        raw = await request.read()
        try:
            text = self._gate.verify(raw, request.headers)
            try:  # bolt parses (and reads ids from) the body as it builds the request
                parsed = AsyncBoltRequest(
                    body=text,
                    query=request.query_string,
                    headers=request.headers,  # type: ignore[arg-type]
                )
            except Exception as error:  # not JSON, JSON but not an object, ids of odd types
                raise self._gate.refuse(
                    f"bolt could not read it ({type(error).__name__})"
                ) from None
            self._gate.check(parsed.body)
            response = await self.app.async_dispatch(parsed)
        except Refused as refusal:
            return web.Response(status=refusal.status, text=refusal.text)
        except Exception as error:  # a shape the checks let through and a listener could not read
            self._crashed.warn(error=type(error).__name__)
            return web.Response(status=400, text="malformed request")
        if response.status >= 500:  # bolt's answer when a listener raised (it logged why)
            return web.Response(status=400, text="request could not be handled")
        return await to_aiohttp_response(response)

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        await self._check_auth()
        if self.config.app_token is not None:
            self._socket = GuardedSocketModeHandler(
                self.app, self.config.app_token, web_client=self.client
            )
            # Connecting retries on its own until Slack answers; the bot does not wait for it.
            self._spawn(self._socket.connect_async())  # type: ignore[no-untyped-call]
        log.info("slack.started", mode="socket" if self.socket_mode else "http")

    async def stop(self, grace: float = 10.0) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._tasks:  # replies still on their way get a little time to arrive
            _, late = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            if late:
                log.warning("slack.stopped_with_work_undone", tasks=len(late))
        await self.names.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        log.info("slack.stopped")

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
        self.bot_user_id = str(auth.get("user_id") or "") or None
        log.info("slack.authorized", team=auth.get("team"), bot=auth.get("user"))

    async def drain(self) -> None:
        """Wait for work that continues after acks (posting, clicks); used by tests and stop."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.home.settle()

    def _http_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise DeliveryFailed(self.name, "-", "transport not started")
        return self._session

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(_logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # The Transport protocol ------------------------------------------------------------------

    async def post(
        self, channel: str, reply: Reply, *, notify: bool = False, key: str | None = None
    ) -> MessageRef:
        first: MessageRef | None = None
        for message in render(reply, notify=notify):
            marker = outbox_metadata(key) if first is None else None
            data = await self.delivery.call(
                "chat.postMessage", channel=channel, metadata=marker, **message.payload()
            )
            if first is None:
                first = MessageRef(self.name, str(data.get("channel", channel)), str(data["ts"]))
        assert first is not None  # render always gives at least one message
        for attachment in reply.attachments:
            await self.delivery.upload(first.channel, attachment)
        return first

    async def update(self, ref: MessageRef, reply: Reply, *, notify: bool = False) -> None:
        """Slack edits never notify; `notify` changes nothing here."""
        message = render_one(reply)
        await self.delivery.call(
            "chat.update", channel=ref.channel, ts=ref.message_id, **message.payload()
        )

    async def find(self, channel: str, key: str) -> MessageRef | None:
        """The message posted with `key`, from the channel's recent history (its metadata)."""
        ts = await find_outbox_message(self.delivery, channel, key)
        return MessageRef(self.name, channel, ts) if ts else None

    async def canonical(self, channel: str) -> str:
        """Channel ids are already canonical here."""
        return channel

    async def pin(self, ref: MessageRef) -> None:
        try:
            await self.delivery.call("pins.add", channel=ref.channel, timestamp=ref.message_id)
        except DeliveryFailed as failure:
            if failure.reason == "already_pinned":
                return
            if failure.reason != "not_in_channel":
                raise
            # chat:write.public let it post in a public channel it was never added to; pinning
            # needs membership, so it joins (channels:join) and pins.
            await self.delivery.call("conversations.join", channel=ref.channel)
            await self.delivery.call("pins.add", channel=ref.channel, timestamp=ref.message_id)

    # Listeners -------------------------------------------------------------------------------

    def _listen(self) -> None:
        """Bolt calls these with arguments by name; process_before_response means the ack is
        sent when they return, so slow work goes to tracked tasks (`_spawn`)."""
        interactions = self.interactions

        @self.app.command(re.compile(r"^/"))
        async def slash(ack: Any, body: dict[str, Any]) -> None:
            await interactions.slash(ack, body)

        @self.app.event("app_mention")
        async def mention(
            body: dict[str, Any], event: dict[str, Any], context: Any, request: Any
        ) -> None:
            # HTTP retries say X-Slack-Retry-Num; bolt maps Socket Mode's retry_attempt onto it.
            retry = (request.headers.get("x-slack-retry-num") or [None])[0]
            await interactions.mention(body, event, context.get("bot_user_id"), retry)

        @self.app.action(re.compile(f"^{ACTION_PREFIX}"))
        async def click(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            self._spawn(interactions.click(body))

        listen_for_surfaces(self.app, self.forms, self.home, self._spawn)


async def _logged(work: Coroutine[Any, Any, Any]) -> None:
    try:
        await work
    except DeliveryFailed:
        pass  # already logged with what was not delivered
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("slack.background_failed")
