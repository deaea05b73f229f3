"""Web API calls that survive Slack's bad moments: 429s are waited out, 5xx and network errors
retried with backoff (bot/transports/retry.py); after bounded retries the failure is logged with
what was not delivered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Attachment
from bot.observability.metrics import Metrics
from bot.transports.retry import Exhausted, Retry, RetryPolicy, with_retries

log = structlog.get_logger(__name__)
TRANSPORT = "slack"


class SlackDelivery:
    def __init__(
        self,
        client: AsyncWebClient,
        session: Callable[[], aiohttp.ClientSession],
        metrics: Metrics,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._client = client
        self._session = session
        self._metrics = metrics
        self.policy = policy or RetryPolicy()

    async def call(self, method: str, **payload: Any) -> dict[str, Any]:
        """A Web API method; returns Slack's answer. Raises DeliveryFailed."""
        payload = {key: value for key, value in payload.items() if value is not None}
        channel = str(payload.get("channel", "-"))

        async def once() -> dict[str, Any]:
            try:
                response = await self._client.api_call(method, json=payload)
            except SlackApiError as error:
                raise _classify(error) from None
            return dict(response.data) if isinstance(response.data, dict) else {}

        return await self._with_retries(method, channel, payload, once)

    async def upload(
        self, channel: str, attachment: Attachment, *, thread: str | None = None
    ) -> dict[str, Any]:
        """A file to a channel (or thread) with slack_sdk's files_upload_v2: an upload URL
        (files.getUploadURLExternal), the upload, then files.completeUploadExternal, which
        shares it. Raises DeliveryFailed."""
        payload = {"channel": channel, "text": f"file {attachment.name}"}

        async def once() -> dict[str, Any]:
            try:
                response = await self._client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread,
                    filename=attachment.name,
                    title=attachment.title or attachment.name,
                    **_content(attachment),
                )
            except SlackApiError as error:
                raise _classify(error) from None
            return dict(response.data) if isinstance(response.data, dict) else {}

        return await self._with_retries("files.upload_v2", channel, payload, once)

    async def respond(self, url: str, channel: str, payload: dict[str, Any]) -> None:
        """POST to an interaction's `response_url` (works where the bot is not a member)."""
        if not url.startswith(("https://", "http://")):  # none given: nothing to retry
            log.error("slack.not_delivered", method="response_url", channel=channel,
                      reason="no response_url", undelivered=_summary(payload))  # fmt: skip
            raise DeliveryFailed(TRANSPORT, channel, "no response_url")

        async def once() -> dict[str, Any]:
            async with self._session().post(url, json=payload) as response:
                body = await response.text()
                if response.status == 429:
                    raise Retry("ratelimited", _retry_after(response.headers.get("Retry-After")))
                if response.status >= 500:
                    raise Retry(f"HTTP {response.status}", None)
                if response.status != 200:
                    raise _Fatal(f"HTTP {response.status}: {body[:200]}")
                return {"ok": True}

        await self._with_retries("response_url", channel, payload, once)

    async def _with_retries(
        self,
        method: str,
        channel: str,
        payload: dict[str, Any],
        once: Callable[[], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        async def attempt() -> dict[str, Any]:
            try:
                return await once()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise Retry(f"network: {type(error).__name__}") from None

        try:
            result = await with_retries(
                attempt, self.policy, self._metrics, transport=TRANSPORT, action=method,
                channel=channel,
            )  # fmt: skip
        except (_Fatal, Exhausted) as failure:
            self._metrics.delivery(TRANSPORT, "failed")
            log.error(
                "slack.not_delivered",
                method=method,
                channel=channel,
                reason=failure.reason,
                undelivered=_summary(payload),
            )
            raise DeliveryFailed(TRANSPORT, channel, failure.reason) from None
        self._metrics.delivery(TRANSPORT, "ok")
        return result


def _content(attachment: Attachment) -> dict[str, Any]:
    if attachment.path is not None:
        return {"file": str(attachment.path)}
    return {"content": attachment.read()}


class _Fatal(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _classify(error: SlackApiError) -> Exception:
    response = error.response
    # A SlackResponse, or the raw aiohttp response when Slack's body was not JSON.
    status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
    code = str(response.get("error", "") or "") if hasattr(response, "get") else ""
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        return Retry("ratelimited", _retry_after(_header(headers, "Retry-After")))
    if status >= 500 or code in ("internal_error", "fatal_error", "service_unavailable"):
        return Retry(f"HTTP {status} {code}".strip(), None)
    return _Fatal(code or f"HTTP {status}")


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _summary(payload: dict[str, Any]) -> str:
    """What was not delivered, for the log: the message's fallback text, never a token."""
    text = str(payload.get("text", ""))
    return text if len(text) <= 500 else text[:499] + "…"
