"""The outbox's mark on a Slack message: message metadata carrying the outbox key, so a process
that took over a half-sent entry can tell from the channel's history whether the copy is there."""

from __future__ import annotations

from typing import Any

import structlog
from slack_sdk.models.metadata import Metadata

from bot.domain.delivery import DeliveryFailed
from bot.transports.slack.delivery import SlackDelivery

log = structlog.get_logger(__name__)
EVENT_TYPE = "lifeline_outbox"
HISTORY_PAGE = 100
HISTORY_PAGES = 2  # the newest 200 messages: a copy owed minutes ago is among them


def outbox_metadata(key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    return Metadata(event_type=EVENT_TYPE, event_payload={"outbox": key}).to_dict()


async def find_outbox_message(delivery: SlackDelivery, channel: str, key: str) -> str | None:
    """The ts of the message in `channel` posted with `key`, or None. When the history cannot
    be read (scope, membership) this says None and logs it: the caller posts, and a copy may be
    doubled — the window the README states."""
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        try:
            page = await delivery.call(
                "conversations.history", channel=channel, limit=HISTORY_PAGE,
                include_all_metadata=True, cursor=cursor,
            )  # fmt: skip
        except DeliveryFailed as failure:
            log.warning("slack.outbox_history_unreadable", channel=channel, reason=failure.reason)
            return None
        found = marked_message(page.get("messages"), key)
        if found is not None:
            return found
        following = page.get("response_metadata")
        cursor = str(following.get("next_cursor") or "") if isinstance(following, dict) else ""
        if not cursor:
            return None
    return None


def marked_message(messages: Any, key: str) -> str | None:
    """The ts of the first message carrying the outbox mark `key`. Slack's answer is outside
    input: anything not shaped like a marked message is passed over, never an error."""
    if not isinstance(messages, list):
        return None
    for message in messages:
        if not isinstance(message, dict):
            continue
        metadata = message.get("metadata")
        if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
            continue
        payload = metadata.get("event_payload")
        ts = message.get("ts")
        if isinstance(payload, dict) and payload.get("outbox") == key and isinstance(ts, str):
            return ts
    return None
