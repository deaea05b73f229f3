"""The live board: one message per incident on each transport, posted once, pinned, and edited
in place. A burst of check-ins coalesces into a few edits, and the last edit is always exact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from bot.domain.delivery import DeliveryFailed, MessageRef, Transport
from bot.domain.events import BoardChanged, Event, IncidentClosed
from bot.domain.facility import FacilityConfig
from bot.domain.outbox import OutboxMessage
from bot.domain.reply import Reply
from bot.services.board import build_board
from bot.services.coalesced_edits import CoalescedEdits
from bot.services.deliverer import Target
from bot.storage.store import Store

log = structlog.get_logger(__name__)
EVENTS = (BoardChanged, IncidentClosed)


class LiveBoard:
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
        self._edits = CoalescedEdits(self._edit, min_interval)
        self._first_posts: dict[tuple[str, str], Reply] = {}  # the board as first rendered

    async def on_event(self, event: Event) -> None:
        if isinstance(event, BoardChanged) and event.incident_id:
            self.refresh(event.incident_id)
        elif isinstance(event, IncidentClosed):
            self.refresh(event.incident.id)

    # The outbox's owner of the board's first post --------------------------------------------

    async def targets(self, message: OutboxMessage) -> list[Target]:
        payload = message.payload
        incident_id = str(payload["incident"])
        found = []
        for name in self._transports:
            channel = self._facility.channels.incident_on(
                name, str(payload["transport"]), payload.get("channel")
            )
            if channel is not None:
                found.append(Target(name, channel, self._renderer(incident_id, name)))
        return found

    def _renderer(self, incident_id: str, transport: str) -> Callable[[], Awaitable[Reply]]:
        async def render() -> Reply:
            board = await build_board(self._store, self._facility, self._clock(), incident_id)
            self._first_posts[(incident_id, transport)] = board
            return board

        return render

    async def delivered(self, message: OutboxMessage, target: Target, ref: MessageRef) -> None:
        incident_id = str(message.payload["incident"])
        await self._store.save_board_ref(incident_id, ref)
        try:
            await self._transports[ref.transport].pin(ref)
        except DeliveryFailed as failure:
            log.error("board.not_pinned", transport=ref.transport, reason=failure.reason)
        posted = self._first_posts.pop((incident_id, ref.transport), None)
        now = await build_board(self._store, self._facility, self._clock(), incident_id)
        if posted != now:  # a check-in while it was being posted: edit it now
            self.refresh(incident_id)

    async def finished(
        self, message: OutboxMessage, failures: list[DeliveryFailed], total: int
    ) -> list[Target]:
        for failure in failures:
            log.error("board.not_posted", transport=failure.transport, channel=failure.channel,
                      reason=failure.reason)  # fmt: skip
        return []

    def refresh(self, incident_id: str) -> None:
        """Mark the board changed; it is edited at most once per interval, last edit exact."""
        self._edits.request(incident_id)

    async def _edit(self, incident_id: str) -> None:
        refs = await self._store.board_refs(incident_id)
        if not refs:
            return
        board = await build_board(self._store, self._facility, self._clock(), incident_id)
        for ref in refs:
            transport = self._transports.get(ref.transport)
            if transport is None:
                continue
            try:
                await transport.update(ref, board)
            except DeliveryFailed as failure:
                log.error("board.not_updated", transport=ref.transport, reason=failure.reason)

    async def settle(self) -> None:
        await self._edits.settle()
