"""Roll call: who has not reported this period, asking them where they are, and the reminders.

Each department is asked in its own channel or room; departments with none are named in the
incident channel (or where the commander asked). Reminders are scheduled jobs in Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import structlog

from bot.domain.delivery import DeliveryFailed, Transport
from bot.domain.department_state import effective_state
from bot.domain.events import Event, RollCallRequested
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import Incident, State
from bot.domain.reply import Reply
from bot.storage.store import Store
from bot.views.rollcall import ask_reply, missing_reply

log = structlog.get_logger(__name__)
ROLLCALL_JOB = "rollcall"
EVENTS = (RollCallRequested,)


async def missing_departments(
    store: Store, facility: FacilityConfig, incident: Incident, now: datetime
) -> list[Department]:
    """Departments with no check-in this period, or whose last one is stale."""
    departments = facility.departments
    latest = await store.latest_checkins([d.id for d in departments])
    missing = []
    for dept in departments:
        state, stale = effective_state(
            latest.get(dept.id), incident, now, facility.checkin_interval
        )
        if state is State.UNKNOWN or stale:
            missing.append(dept)
    return missing


def rollcall_job(
    incident: Incident, origin_transport: str, origin_channel: str | None
) -> dict[str, Any]:
    return {
        "kind": ROLLCALL_JOB,
        "incident": incident.id,
        "transport": origin_transport,
        "channel": origin_channel,
    }


class RollCaller:
    def __init__(
        self,
        store: Store,
        facility: FacilityConfig,
        clock: Callable[[], datetime],
        transports: Mapping[str, Transport],
    ) -> None:
        self._store = store
        self._facility = facility
        self._clock = clock
        self._transports = transports

    async def on_event(self, event: Event) -> None:
        if isinstance(event, RollCallRequested):
            await self.ask(event)

    async def ask(self, event: RollCallRequested) -> None:
        incident = await self._store.incident(event.incident_id)
        if incident is None:
            return
        by_id = {d.id: d for d in self._facility.departments}
        departments = [by_id[d] for d in event.departments if d in by_id]
        for name, transport in self._transports.items():
            unreachable = []
            for dept in departments:
                channel = dept.channel_on(name)
                if channel:
                    await self._post(transport, channel, ask_reply(dept, incident, event.reminder))
                else:
                    unreachable.append(dept)
            channel = self._facility.channels.incident_on(
                name, event.origin_transport, event.origin_channel
            )
            if unreachable and channel:
                await self._post(
                    transport, channel, missing_reply(unreachable, incident, event.reminder)
                )

    async def _post(self, transport: Transport, channel: str, reply: Reply) -> None:
        try:
            await transport.post(channel, reply)
        except DeliveryFailed as failure:
            log.error("rollcall.not_delivered", channel=channel, reason=failure.reason)

    async def remind(self, job: dict[str, Any]) -> datetime | None:
        """The scheduled reminder: ask again whoever is still missing; stop when nobody is or
        the incident is closed."""
        incident = await self._store.open_incident()
        if incident is None or incident.id != job["incident"]:
            return None
        missing = await missing_departments(self._store, self._facility, incident, self._clock())
        if not missing:
            log.info("rollcall.complete", incident=incident.id)
            return None
        await self.ask(
            RollCallRequested(
                incident.id,
                tuple(d.id for d in missing),
                str(job["transport"]),
                job.get("channel"),
                reminder=True,
            )
        )
        return self._clock() + self._facility.rollcall_interval
