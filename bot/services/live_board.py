"""The live board: one message per incident on each transport, posted once, pinned, and edited
in place. A burst of check-ins coalesces into a few edits, and the last edit is always exact."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from bot.domain.delivery import DeliveryFailed, Transport
from bot.domain.events import BoardChanged, Event, IncidentClosed, IncidentOpened
from bot.domain.facility import FacilityConfig
from bot.services.board import build_board
from bot.services.coalesced_edits import CoalescedEdits
from bot.storage.store import Store

log = structlog.get_logger(__name__)
EVENTS = (IncidentOpened, BoardChanged, IncidentClosed)


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

    async def on_event(self, event: Event) -> None:
        if isinstance(event, IncidentOpened):
            await self._post(event)
        elif isinstance(event, BoardChanged) and event.incident_id:
            self.refresh(event.incident_id)
        elif isinstance(event, IncidentClosed):
            self.refresh(event.incident.id)

    async def _post(self, event: IncidentOpened) -> None:
        board = await build_board(self._store, self._facility, self._clock())
        for name, transport in self._transports.items():
            channel = self._facility.channels.incident_on(name, event.transport, event.channel)
            if channel is None:
                continue
            try:
                ref = await transport.post(channel, board)
                await self._store.save_board_ref(event.incident.id, ref)
                await transport.pin(ref)
            except DeliveryFailed as failure:
                log.error(
                    "board.not_posted", transport=name, channel=channel, reason=failure.reason
                )

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
