"""The deliverer: sends what the outbox says is owed, in every replica, each copy once.

It claims new entries (and, after a lease, those a dead process left), asks the service that owns
the entry's kind where it goes, and for each target writes "sending", posts with a key derived
from the entry and target, then writes "sent" with the message id. A target found "sending" was
left mid-post by a process that died: the platform is asked whether the copy arrived (Slack:
the channel's history; Matrix: the same transaction id posts nothing new) before it is posted.
While it works on entries it renews their lease, so only a dead or stalled process loses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog

from bot.domain.delivery import DeliveryFailed, MessageRef, Transport
from bot.domain.events import Event
from bot.domain.outbox import OutboxMessage
from bot.domain.reply import Reply
from bot.observability.metrics import Metrics
from bot.storage.outbox import Mark, Outbox, OutboxEntry

log = structlog.get_logger(__name__)
CONCURRENCY_PER_TRANSPORT = 8
ENTRIES_AT_ONCE = 4  # claimed per read; a pass reads until nothing new is left


@dataclass(frozen=True)
class Target:
    """One message of an entry: where, rendered when it is sent (so it carries current state),
    and `id`, unique within the entry (a channel may get two messages of one roll call)."""

    transport: str
    channel: str
    render: Callable[[], Awaitable[Reply]]
    notify: bool = False
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.transport} {self.channel}" + (f" {self.label}" if self.label else "")


class Owner(Protocol):
    """The service that owes one kind of message (broadcast copies, roll-call asks, the board)."""

    async def targets(self, message: OutboxMessage) -> list[Target]: ...

    async def delivered(self, message: OutboxMessage, target: Target, ref: MessageRef) -> None:
        """A copy is there (just sent, or found sent): remember it. Must be idempotent."""

    async def finished(
        self, message: OutboxMessage, failures: list[DeliveryFailed], total: int
    ) -> list[Target]:
        """Messages that follow from how it went (a failure report to the sender), sent once
        as part of the same entry."""
        ...


def fixed(reply: Reply) -> Callable[[], Awaitable[Reply]]:
    """A target's render for a message that does not change with time."""

    async def render() -> Reply:
        return reply

    return render


def consumer_name() -> str:
    """Unique per process: a restarted bot is a new consumer, and reclaims what it left."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Deliverer:
    def __init__(
        self,
        outbox: Outbox,
        transports: Mapping[str, Transport],
        owners: Mapping[str, Owner],
        metrics: Metrics,
        *,
        lease: timedelta,
        poll: float,
        attempts: int,
    ) -> None:
        self._outbox = outbox
        self._transports = transports
        self._owners = owners
        self._metrics = metrics
        self._lease = lease
        self._poll = poll
        self._attempts = attempts
        self.consumer = consumer_name()
        self._limits = {name: asyncio.Semaphore(CONCURRENCY_PER_TRANSPORT) for name in transports}
        self._in_hand: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._group_ready = False
        self._tasks: list[asyncio.Task[None]] = []

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._outbox.ensure_group()
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._loop()),
            asyncio.create_task(self._renew_leases()),
        ]

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the entries in hand (within `grace`); what is left is reclaimed elsewhere."""
        self._stopping = True
        self._wake.set()
        in_hand = list(self._in_hand.values())
        if in_hand:
            await asyncio.wait(in_hand, timeout=grace)
        for task in [*self._tasks, *self._in_hand.values()]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._in_hand.values(), return_exceptions=True)

    async def on_event(self, event: Event) -> None:
        """Something was just owed here: deliver it now rather than at the next poll."""
        await self.deliver_pending()

    async def deliver_pending(self) -> None:
        """Claim and deliver every new entry, and wait for the ones already in hand."""
        if not self._stopping:
            await self._ensure_group_once()
            while entries := await self._outbox.claim_new(self.consumer, ENTRIES_AT_ONCE):
                await self._take(entries)
        await self.idle()

    async def idle(self) -> None:
        while self._in_hand:
            await asyncio.gather(*list(self._in_hand.values()), return_exceptions=True)

    async def _ensure_group_once(self) -> None:
        if not self._group_ready:
            await self._outbox.ensure_group()
            self._group_ready = True

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self._reclaim()
                await self.deliver_pending()
            except Exception:
                log.exception("outbox.poll_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _renew_leases(self) -> None:
        every = self._lease.total_seconds() / 3
        while not self._stopping:
            await asyncio.sleep(every)
            try:
                await self._outbox.renew(self.consumer, list(self._in_hand))
            except Exception:
                log.exception("outbox.renew_failed")

    async def _reclaim(self) -> None:
        entries = await self._outbox.reclaim(self.consumer, self._lease, ENTRIES_AT_ONCE)
        fresh = [e for e in entries if e.id not in self._in_hand]
        keep = []
        for entry in fresh:
            times = await self._outbox.times_delivered(entry.id)
            if times > self._attempts:
                log.error("outbox.given_up", entry=entry.id, kind=entry.message.kind, times=times)
                self._metrics.outbox_takeover("given_up")
                await self._outbox.finish(entry.id)
                continue
            log.warning("outbox.reclaimed", entry=entry.id, kind=entry.message.kind, times=times)
            self._metrics.outbox_takeover("reclaimed")
            keep.append(entry)
        await self._take(keep)

    async def _take(self, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            if entry.id not in self._in_hand:
                task = asyncio.create_task(self._deliver(entry))
                self._in_hand[entry.id] = task
                task.add_done_callback(functools.partial(self._let_go, entry.id))

    def _let_go(self, entry_id: str, _: asyncio.Task[None]) -> None:
        self._in_hand.pop(entry_id, None)

    # One entry -------------------------------------------------------------------------------

    async def _deliver(self, entry: OutboxEntry) -> None:
        owner = self._owners.get(entry.message.kind)
        if owner is None:  # e.g. a board post where no live board runs (the console)
            await self._outbox.finish(entry.id)
            return
        try:
            targets = await owner.targets(entry.message)
            marks = await self._outbox.marks(entry.id)
            results = await asyncio.gather(
                *(self._send(entry, owner, target, marks.get(target.id)) for target in targets)
            )
            failures = [failure for failure in results if failure is not None]
            for follow_up in await owner.finished(entry.message, failures, len(targets)):
                await self._send(entry, owner, follow_up, marks.get(follow_up.id))
            await self._outbox.finish(entry.id)
        except Exception:
            log.exception("outbox.entry_failed", entry=entry.id)  # the lease brings it back
            return
        log.info("outbox.delivered", entry=entry.id, kind=entry.message.kind,
                 targets=len(targets), failed=len(failures))  # fmt: skip

    async def _send(
        self, entry: OutboxEntry, owner: Owner, target: Target, mark: Mark | None
    ) -> DeliveryFailed | None:
        transport = self._transports.get(target.transport)
        if transport is None:
            return None  # this replica runs without that platform; the entry ends without it
        if mark is not None and mark.state == "sent":
            ref = MessageRef(target.transport, mark.channel, mark.message_id)
            await owner.delivered(entry.message, target, ref)
            return None
        if mark is not None and mark.state == "failed":
            return DeliveryFailed(target.transport, target.channel, mark.reason)
        key = f"{entry.id} {target.id}"
        async with self._limits[target.transport]:
            if mark is not None:  # "sending", left by a process that lost the entry
                found = await transport.find(target.channel, key)
                if found is not None:
                    log.info("outbox.found_sent", entry=entry.id, target=target.id)
                    self._metrics.outbox_takeover("found_sent")
                    await self._sent(entry, owner, target, found)
                    return None
            elif not await self._outbox.mark_sending(entry.id, target.id, self.consumer):
                return None  # another live consumer is sending this one
            try:
                reply = await target.render()
                ref = await transport.post(target.channel, reply, notify=target.notify, key=key)
            except DeliveryFailed as failure:
                log.error("outbox.not_delivered", entry=entry.id, target=target.id,
                          reason=failure.reason)  # fmt: skip
                failed = Mark("failed", self.consumer, reason=failure.reason)
                await self._outbox.mark(entry.id, target.id, failed)
                return failure
        await self._sent(entry, owner, target, ref)
        return None

    async def _sent(
        self, entry: OutboxEntry, owner: Owner, target: Target, ref: MessageRef
    ) -> None:
        sent = Mark("sent", self.consumer, message_id=ref.message_id, channel=ref.channel)
        await self._outbox.mark(entry.id, target.id, sent)
        await owner.delivered(entry.message, target, ref)
