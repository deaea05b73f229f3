"""Socket Mode with the same standard as HTTP: an envelope whose payload bolt could not read is
acknowledged (so Slack does not send it again), logged briefly and dropped."""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.transports.slack.request_gate import RateLimitedLog
from bot.transports.slack.request_shape import Malformed, check_shape


class GuardedSocketModeHandler(AsyncSocketModeHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.malformed = RateLimitedLog("slack.envelope_malformed")
        self.failed = RateLimitedLog("slack.envelope_failed")
        # Runs before slack_sdk builds a request, which raises (and logs a traceback, never
        # acking) for a payload that is neither an object nor a string.
        self.client.message_listeners.insert(0, self._unreadable)  # type: ignore[arg-type]

    async def _unreadable(
        self, client: SocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        payload = message.get("payload", {})
        if isinstance(payload, dict | str) or not isinstance(message.get("envelope_id"), str):
            return
        del message["payload"]  # no request is built from it
        self.malformed.warn(reason="payload is not an object", envelope_type="-")
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=message["envelope_id"])
        )

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        try:
            check_shape(req.payload)
        except Malformed as problem:
            self.malformed.warn(reason=str(problem), envelope_type=str(req.type)[:40])
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        try:
            await super().handle(client, req)
        except Exception as error:  # bolt could not read a shape the check let through
            self.failed.warn(error=type(error).__name__)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
