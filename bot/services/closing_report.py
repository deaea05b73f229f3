"""When an incident closes, its after-action report draft is posted to the incident channel or
room on every transport (where its board lives, else the configured incident channel)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import structlog

from bot.domain.delivery import DeliveryFailed, Transport
from bot.domain.events import Event, IncidentClosed
from bot.domain.facility import FacilityConfig
from bot.domain.reply import Reply
from bot.services.report.files import write_report
from bot.storage.store import Store

log = structlog.get_logger(__name__)
EVENTS = (IncidentClosed,)


class ClosingReport:
    def __init__(
        self,
        store: Store,
        facility: FacilityConfig,
        clock: Callable[[], datetime],
        transports: Mapping[str, Transport],
        directory: Path,
    ) -> None:
        self._store = store
        self._facility = facility
        self._clock = clock
        self._transports = transports
        self._directory = directory

    async def on_event(self, event: Event) -> None:
        if isinstance(event, IncidentClosed):
            await self.post(event)

    async def targets(self, incident_id: str) -> dict[str, str]:
        """transport → channel: the board's, else the configured incident channel."""
        found = {
            name: channel
            for name in self._transports
            if (channel := self._facility.channels.incident_on(name))
        }
        for ref in await self._store.board_refs(incident_id):
            if ref.transport in self._transports:
                found[ref.transport] = ref.channel
        return found

    async def post(self, event: IncidentClosed) -> None:
        incident = event.incident
        targets = await self.targets(incident.id)
        if not targets:
            return
        files = await write_report(
            self._store, self._facility, incident, self._clock(), self._directory
        )
        reply = Reply(
            title=f"After-action report draft — {incident.id} {incident.title}",
            lines=[
                "For the review meeting: the overview, timeline, departments, broadcasts, "
                "runbooks, roll calls and refusals, with HICS 214, 251 and 213 appendices.",
                f"Get it again any time with: incident report {incident.id}",
            ],
            attachments=[f.attachment(incident.id) for f in files],
        )
        for name, channel in targets.items():
            try:
                await self._transports[name].post(channel, reply)
            except DeliveryFailed as failure:
                log.error("report.not_posted", transport=name, channel=channel,
                          reason=failure.reason)  # fmt: skip
