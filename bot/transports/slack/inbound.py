"""Slack payloads as Commands: the text the router reads, who sent it, and a stable id."""

from __future__ import annotations

import re
from typing import Any

from redis.asyncio import Redis

from bot.command import Command
from bot.context import utc_now
from bot.keys import Keys
from bot.models import Actor
from bot.transports.slack.names import DisplayNames

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_NAME_UNSAFE = re.compile(r'[<>|"“”„«»]')  # would end the mention or open a quote


def unescape(text: str) -> str:
    """Slack sends `&`, `<`, `>` typed by a user as entities; the router reads what they typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def after_bot_mention(text: str, bot_user_id: str | None) -> str:
    """`<@ULIFELINE> status pharmacy` (or `hey <@ULIFELINE> status`) → `status pharmacy`."""
    if bot_user_id:
        match = re.search(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", text)
        if match:
            return text[match.end() :].strip()
    return re.sub(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>", "", text).strip()


class CommandBuilder:
    def __init__(self, names: DisplayNames) -> None:
        self._names = names

    async def build(
        self,
        command_id: str,
        user_id: str,
        text: str,
        *,
        fallback_name: str = "",
        channel: str | None = None,
        thread: str | None = None,
    ) -> Command:
        name = await self._names.name(user_id, fallback_name)
        return Command(
            id=command_id,
            actor=Actor(id=user_id, name=name, transport="slack"),
            text=await self._named_mentions(text),
            channel=channel,
            thread=thread,
            received_at=utc_now(),
        )

    async def _named_mentions(self, text: str) -> str:
        """`<@U123>` → `<@U123|Dr. Rivera>`, so a handoff records the new commander's name."""
        text = unescape(text)
        users = list(dict.fromkeys(_USER_MENTION.findall(text)))
        if not users:
            return text
        names = {user: await self._names.name(user) for user in users}

        def named(match: re.Match[str]) -> str:
            user = match[1]
            # No-break spaces keep "Sam Okafor" one word for the tokenizer.
            name = "\u00a0".join(_NAME_UNSAFE.sub("", names[user]).split())
            return f"<@{user}|{name or user}>"

        return _USER_MENTION.sub(named, text)


class EventLedger:
    """Which Events API deliveries were already taken (SET NX with a TTL, shared by replicas), so
    Slack's retries (`X-Slack-Retry-Num`, Socket Mode `retry_attempt`) are answered once."""

    def __init__(self, redis: Redis, keys: Keys, ttl_seconds: int = 24 * 3600) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl_seconds

    async def first_delivery(self, event_id: str) -> bool:
        key = self._keys.slack_event(event_id)
        return bool(await self._redis.set(key, "1", nx=True, ex=self._ttl))


def thread_of(message: dict[str, Any]) -> str | None:
    thread = message.get("thread_ts")
    return str(thread) if thread else None
