"""Slack payloads as Commands: the text the router reads, who sent it, and a stable id."""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.domain.clock import utc_now
from bot.domain.command import Command
from bot.domain.models import Actor
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
        reference: str | None = None,
    ) -> Command:
        name = await self._names.name(user_id, fallback_name)
        return Command(
            id=command_id,
            actor=Actor(id=user_id, name=name, transport="slack"),
            text=await self._named_mentions(text),
            channel=channel,
            thread=thread,
            reference=reference,
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


class DeliveryLedger(Protocol):
    """Which platform deliveries were already taken (the store keeps it, shared by replicas)."""

    async def first_delivery(self, platform: str, event_id: str) -> bool: ...


def thread_of(message: dict[str, Any]) -> str | None:
    thread = message.get("thread_ts")
    return str(thread) if thread else None
