"""Broadcast fan-out: one copy per target on every transport, concurrently within each platform's
limits; failures reported back to the sender by name; the sender's copy keeps its ack count."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from bot.domain.broadcast import Broadcast
from bot.domain.delivery import DeliveryFailed, MessageRef, Transport
from bot.domain.events import BroadcastAcked, BroadcastSent, Event
from bot.domain.facility import FacilityConfig
from bot.domain.reply import Reply
from bot.services.coalesced_edits import CoalescedEdits
from bot.storage.store import Store
from bot.views.broadcast import broadcast_reply

log = structlog.get_logger(__name__)
CONCURRENCY_PER_TRANSPORT = 8
EVENTS = (BroadcastSent, BroadcastAcked)


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
        self._limits = {name: asyncio.Semaphore(CONCURRENCY_PER_TRANSPORT) for name in transports}
        self._edits = CoalescedEdits(self._update_counts, min_interval)

    async def on_event(self, event: Event) -> None:
        if isinstance(event, BroadcastSent):
            await self.deliver(event)
        elif isinstance(event, BroadcastAcked):
            self._edits.request(event.broadcast_id)

    async def targets(self, transport: str, origin: BroadcastSent) -> list[str]:
        """Broadcast channels, the incident channel and where it was sent from, each once."""
        channels = self._facility.channels
        found = list(channels.broadcast_on(transport))
        incident = channels.incident_on(transport)
        if incident:
            found.append(incident)
        if origin.origin_transport == transport and origin.origin_channel:
            found.append(origin.origin_channel)
        return list(dict.fromkeys([await self._canonical(transport, c) for c in found]))

    async def _canonical(self, transport: str, channel: str) -> str:
        try:
            return await self._transports[transport].canonical(channel)
        except DeliveryFailed:
            return channel  # posting to it will fail and be reported by name

    async def deliver(self, event: BroadcastSent) -> list[DeliveryFailed]:
        broadcast = await self._store.broadcasts.get(event.broadcast_id)
        if broadcast is None:
            return []
        copy = self._copy(broadcast, 0)
        jobs = [
            self._post(name, channel, copy, broadcast)
            for name in self._transports
            for channel in await self.targets(name, event)
        ]
        results = await asyncio.gather(*jobs)
        failures = [failure for failure in results if failure is not None]
        log.info("broadcast.delivered", broadcast=broadcast.id, copies=len(jobs) - len(failures),
                 failed=len(failures))  # fmt: skip
        if failures:
            await self._report(event, broadcast, failures, len(jobs))
        return failures

    async def _post(
        self, name: str, channel: str, copy: Reply, broadcast: Broadcast
    ) -> DeliveryFailed | None:
        async with self._limits[name]:
            try:
                ref = await self._transports[name].post(
                    channel, copy, notify=broadcast.priority == "urgent"
                )
            except DeliveryFailed as failure:
                log.error("broadcast.not_delivered", broadcast=broadcast.id, transport=name,
                          channel=channel, reason=failure.reason)  # fmt: skip
                return failure
        await self._store.broadcasts.save_copy(broadcast.id, ref)
        return None

    async def _report(
        self, event: BroadcastSent, broadcast: Broadcast, failures: list[DeliveryFailed], total: int
    ) -> None:
        transport = self._transports.get(event.origin_transport)
        if transport is None or event.origin_channel is None:
            return
        missed = "; ".join(f"{f.transport} {f.channel} ({f.reason})" for f in failures)
        report = Reply(
            title=f"{broadcast.id} did not reach every channel",
            lines=[
                f"Delivered to {total - len(failures)} of {total}. Not delivered: {missed}.",
                "Reach those teams another way (phone, runner) or fix the channel and resend.",
            ],
        )
        try:
            await transport.post(event.origin_channel, report)
        except DeliveryFailed as failure:
            log.error(
                "broadcast.report_not_delivered", broadcast=broadcast.id, reason=failure.reason
            )

    async def _update_counts(self, broadcast_id: str) -> None:
        """Edit the sender's copy and the incident channel's copy; the others stay as sent."""
        store = self._store.broadcasts
        broadcast = await store.get(broadcast_id)
        if broadcast is None:
            return
        keep = await self._counted_channels(broadcast)
        reply = self._copy(broadcast, await store.ack_count(broadcast_id))
        for ref in await store.copies(broadcast_id):
            if (ref.transport, ref.channel) in keep and ref.transport in self._transports:
                await self._update(ref, reply)

    async def _counted_channels(self, broadcast: Broadcast) -> set[tuple[str, str]]:
        keep: set[tuple[str, str]] = {(broadcast.sender.transport, broadcast.origin_channel or "")}
        for name in self._transports:
            channel = self._facility.channels.incident_on(name)
            if channel:
                keep.add((name, await self._canonical(name, channel)))
        return keep

    async def _update(self, ref: MessageRef, reply: Reply) -> None:
        try:
            await self._transports[ref.transport].update(ref, reply)
        except DeliveryFailed as failure:
            log.error("broadcast.count_not_updated", channel=ref.channel, reason=failure.reason)

    def _copy(self, broadcast: Broadcast, acks: int) -> Reply:
        return broadcast_reply(broadcast, acks, self._facility.tz, self._clock())

    async def settle(self) -> None:
        await self._edits.settle()
