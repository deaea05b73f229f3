"""Roll call: who has not reported this period, asking them where they are, and the reminders.

Each department is asked in its own channel or room; departments with none are named in the
incident channel (or where the commander asked). Reminders are scheduled jobs in Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import structlog

from bot.domain.delivery import DeliveryFailed, MessageRef, Transport
from bot.domain.department_state import effective_state
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import Incident, State
from bot.domain.outbox import OutboxMessage, rollcall_asks
from bot.services.deliverer import Target, fixed
from bot.storage.store import Store
from bot.views.rollcall import ask_reply, missing_reply

log = structlog.get_logger(__name__)
ROLLCALL_JOB = "rollcall"


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
    """The outbox's owner of roll-call asks; and the scheduled reminder, which owes the next
    round atomically with moving its job on."""

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

    async def targets(self, message: OutboxMessage) -> list[Target]:
        payload = message.payload
        incident = await self._store.incident(str(payload["incident"]))
        if incident is None:
            return []
        reminder = bool(payload["reminder"])
        by_id = {d.id: d for d in self._facility.departments}
        departments = [by_id[d] for d in payload["departments"] if d in by_id]
        targets = []
        for name in self._transports:
            unreachable = []
            for dept in departments:
                channel = dept.channel_on(name)
                if channel:
                    ask = ask_reply(dept, incident, reminder)
                    targets.append(Target(name, channel, fixed(ask), label=f"ask {dept.id}"))
                else:
                    unreachable.append(dept)
            channel = self._facility.channels.incident_on(
                name, str(payload["transport"]), payload.get("channel")
            )
            if unreachable and channel:
                missing = missing_reply(unreachable, incident, reminder)
                targets.append(Target(name, channel, fixed(missing), label="missing"))
        return targets

    async def delivered(self, message: OutboxMessage, target: Target, ref: MessageRef) -> None:
        """Nothing to remember: an ask is answered by checking in."""

    async def finished(
        self, message: OutboxMessage, failures: list[DeliveryFailed], total: int
    ) -> list[Target]:
        for failure in failures:
            log.error("rollcall.not_delivered", channel=failure.channel, reason=failure.reason)
        return []

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
        owed = rollcall_asks(
            incident.id,
            tuple(d.id for d in missing),
            str(job["transport"]),
            job.get("channel"),
            reminder=True,
        )
        next_due = self._clock() + self._facility.rollcall_interval
        await self._store.outbox.enqueue_rescheduled(owed, job, next_due)
        return next_due
