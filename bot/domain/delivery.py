"""What every chat transport offers the core: a lifecycle, and posting/editing neutral Replies.

The live board and broadcast fan-out are written once against this protocol; Slack and Matrix
implement it (rate limits, retries and rendering are theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.domain.reply import Reply


@dataclass(frozen=True)
class MessageRef:
    """A message a transport posted, enough to edit it later (Slack `ts`, Matrix event id)."""

    transport: str
    channel: str
    message_id: str


class DeliveryFailed(Exception):
    """A message could not be delivered after the transport's retries; says what and where."""

    def __init__(self, transport: str, channel: str, reason: str) -> None:
        super().__init__(f"{transport} {channel}: {reason}")
        self.transport = transport
        self.channel = channel
        self.reason = reason


class Transport(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self) -> bool: ...

    async def post(
        self, channel: str, reply: Reply, *, notify: bool = False, key: str | None = None
    ) -> MessageRef:
        """Post `reply` (a `bot.reply.Reply`) to `channel`. `notify` pings the channel (urgent
        broadcasts only; the bot adds the mention, user text never can). `key` marks a message
        the outbox owes (stable across processes), for `find` and the platform's idempotency
        (Matrix transaction ids). Raises DeliveryFailed."""
        ...

    async def find(self, channel: str, key: str) -> MessageRef | None:
        """A message posted earlier with `key`, if the platform can say (Slack: message
        metadata in the channel's recent history); None when not found or not knowable."""
        ...

    async def update(self, ref: MessageRef, reply: Reply, *, notify: bool = False) -> None:
        """Edit a message in place. `notify` says the message was posted notifying (an urgent
        copy): the edit keeps its look, without notifying again. Raises DeliveryFailed."""
        ...

    async def canonical(self, channel: str) -> str:
        """The platform's own id for a configured channel (Matrix resolves a room alias), so
        the same room named two ways is recognised as one. Raises DeliveryFailed."""
        ...

    async def pin(self, ref: MessageRef) -> None:
        """Pin the message where the platform supports it; a no-op otherwise."""
        ...
