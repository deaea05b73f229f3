"""The door of `POST /slack/events`: Slack's signature and timestamp are checked on the raw body
before anything parses it; refusals are answered 4xx and logged briefly, at a bounded rate."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from slack_sdk.signature import SignatureVerifier

from bot.transports.slack.request_shape import Malformed, check_shape

log = structlog.get_logger(__name__)
LOG_EVERY = 10.0  # seconds: a flood of bad requests writes one line per this, with a count


class RateLimitedLog:
    """One warning per `every` seconds for an event that can be caused from outside, saying how
    many like it were not logged since; never a traceback, so a flood cannot fill the disk."""

    def __init__(
        self, event: str, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.event = event
        self.every = every
        self._clock = clock
        self._last: float | None = None
        self.suppressed = 0

    def warn(self, **fields: Any) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self.every:
            self.suppressed += 1
            return
        log.warning(self.event, suppressed=self.suppressed, **fields)
        self._last, self.suppressed = now, 0


class RequestGate:
    """`verify` gives the body of a correctly signed request as text, or raises Refused (401);
    `check` refuses (400) a parsed body bolt or Lifeline's listeners could not read."""

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self.unsigned = RateLimitedLog("slack.request_unsigned")
        self.malformed = RateLimitedLog("slack.request_malformed")

    def verify(self, raw: bytes, headers: Mapping[str, str]) -> str:
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise self._unsigned("timestamp missing or not a number")
        try:
            text = raw.decode("utf-8")  # Slack signs text; bytes that are not UTF-8 are not Slack's
        except UnicodeDecodeError:
            raise self._unsigned("body is not UTF-8") from None
        if not signature.isascii() or not self._verifier.is_valid(text, timestamp, signature):
            raise self._unsigned("signature does not match, or the timestamp is too old")
        return text

    def check(self, body: Any) -> None:
        try:
            check_shape(body)
        except Malformed as problem:
            raise self.refuse(str(problem)) from None

    def refuse(self, reason: str) -> Refused:
        self.malformed.warn(reason=reason)
        return Refused(400, "malformed request")

    def _unsigned(self, reason: str) -> Refused:
        self.unsigned.warn(reason=reason)
        return Refused(401, "invalid request signature")


class Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
