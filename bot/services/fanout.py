"""Broadcast fan-out: where a broadcast's copies go (every broadcast channel, the incident
channel, where it was sent from), what a sent copy means (it is saved, and carries the count),
and failures reported back to the sender by name. The deliverer does the sending, from the
outbox. Every copy carries the acknowledgement count and is edited as acks arrive (coalesced,
at most one round of edits per interval, the last one exact); a copy rendered before an ack it
missed is edited once it is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from bot.domain.broadcast import Broadcast
from bot.domain.delivery import DeliveryFailed, MessageRef, Transport
from bot.domain.errors import StoreUnavailable
from bot.domain.events import BroadcastAcked, Event
from bot.domain.facility import FacilityConfig
from bot.domain.outbox import OutboxMessage
from bot.domain.reply import Reply
from bot.services.coalesced_edits import CoalescedEdits
from bot.services.deliverer import Target, fixed
from bot.storage.store import Store
from bot.views.broadcast import broadcast_reply

log = structlog.get_logger(__name__)
EVENTS = (BroadcastAcked,)
REPORT = "report"  # the label of the follow-up to the sender


class Broadcaster:
    def __init__(
        self,
        store: Store,
        facility: FacilityConfig,
        clock: Callable[[], datetime],
        transports: Mapping[str, Transport],
        min_interval: float = 1.0,
    ) -> None:
        self._store = store
        self._facility = facility
        self._clock = clock
        self._transports = transports
        self._edits = CoalescedEdits(self._update_counts, min_interval)
        self._rendered: dict[tuple[str, str], int] = {}  # (broadcast, target) → count sent

    async def on_event(self, event: Event) -> None:
        if isinstance(event, BroadcastAcked):
            self._edits.request(event.broadcast_id)

    async def channels(self, transport: str, broadcast: Broadcast) -> list[str]:
        """Broadcast channels, the incident channel and where it was sent from, each once."""
        channels = self._facility.channels
        found = list(channels.broadcast_on(transport))
        incident = channels.incident_on(transport)
        if incident:
            found.append(incident)
        if broadcast.sender.transport == transport and broadcast.origin_channel:
            found.append(broadcast.origin_channel)
        return list(dict.fromkeys([await self._canonical(transport, c) for c in found]))

    async def _canonical(self, transport: str, channel: str) -> str:
        try:
            return await self._transports[transport].canonical(channel)
        except DeliveryFailed:
            return channel  # posting to it will fail and be reported by name

    # The outbox's owner of broadcast copies --------------------------------------------------

    async def targets(self, message: OutboxMessage) -> list[Target]:
        broadcast = await self._store.broadcasts.get(str(message.payload["broadcast"]))
        if broadcast is None:
            return []
        urgent = broadcast.priority == "urgent"
        return [
            Target(name, channel, self._renderer(broadcast, f"{name} {channel}"), notify=urgent)
            for name in self._transports
            for channel in await self.channels(name, broadcast)
        ]

    def _renderer(self, broadcast: Broadcast, target: str) -> Callable[[], Awaitable[Reply]]:
        async def render() -> Reply:
            acks = await self._store.broadcasts.ack_count(broadcast.id)
            self._rendered[(broadcast.id, target)] = acks
            return self._copy(broadcast, acks)

        return render

    async def delivered(self, message: OutboxMessage, target: Target, ref: MessageRef) -> None:
        if target.label == REPORT:
            return
        broadcast_id = str(message.payload["broadcast"])
        await self._store.broadcasts.save_copy(broadcast_id, ref)
        sent_with = self._rendered.pop((broadcast_id, target.id), None)
        # An ack between rendering and saving edited the copies saved before this one.
        if sent_with is None or sent_with != await self._store.broadcasts.ack_count(broadcast_id):
            self._edits.request(broadcast_id)

    async def finished(
        self, message: OutboxMessage, failures: list[DeliveryFailed], total: int
    ) -> list[Target]:
        """The report to the sender of the channels it did not reach, if any: the deliverer
        sends it once, like the copies."""
        broadcast_id = str(message.payload["broadcast"])
        for key in [key for key in self._rendered if key[0] == broadcast_id]:
            del self._rendered[key]  # copies that failed after rendering
        broadcast = await self._store.broadcasts.get(broadcast_id)
        if broadcast is None:
            return []
        log.info("broadcast.delivered", broadcast=broadcast.id, copies=total - len(failures),
                 failed=len(failures))  # fmt: skip
        for failure in failures:
            await self._note_failure(broadcast.id, failure)
        origin = broadcast.origin_channel
        if not failures or origin is None or broadcast.sender.transport not in self._transports:
            return []
        missed = "; ".join(f"{f.transport} {f.channel} ({f.reason})" for f in failures)
        report = Reply(
            title=f"{broadcast.id} did not reach every channel",
            lines=[
                f"Delivered to {total - len(failures)} of {total}. Not delivered: {missed}.",
                "Reach those teams another way (phone, runner) or fix the channel and resend.",
            ],
        )
        return [Target(broadcast.sender.transport, origin, fixed(report), label=REPORT)]

    async def _note_failure(self, broadcast_id: str, failure: DeliveryFailed) -> None:
        """A copy that could not be delivered, kept for the after-action report."""
        try:
            await self._store.broadcasts.save_failure(
                broadcast_id, failure.transport, failure.channel, failure.reason
            )
        except StoreUnavailable:  # the sender still hears of it; only the report lacks it
            log.error("broadcast.failure_not_recorded", broadcast=broadcast_id)

    # Counts ----------------------------------------------------------------------------------

    async def _update_counts(self, broadcast_id: str) -> None:
        """Edit every saved copy to the store's current count."""
        store = self._store.broadcasts
        broadcast = await store.get(broadcast_id)
        if broadcast is None:
            return
        reply = self._copy(broadcast, await store.ack_count(broadcast_id))
        for ref in await store.copies(broadcast_id):
            if ref.transport in self._transports:
                await self._update(ref, reply, notify=broadcast.priority == "urgent")

    async def _update(self, ref: MessageRef, reply: Reply, *, notify: bool) -> None:
        try:
            await self._transports[ref.transport].update(ref, reply, notify=notify)
        except DeliveryFailed as failure:
            log.error("broadcast.count_not_updated", channel=ref.channel, reason=failure.reason)

    def _copy(self, broadcast: Broadcast, acks: int) -> Reply:
        return broadcast_reply(broadcast, acks, self._facility.tz, self._clock())

    async def settle(self) -> None:
        await self._edits.settle()
