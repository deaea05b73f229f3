"""Roll call: who has not reported this period, asking them where they are, and the reminders.

Each department is asked in its own channel or room; departments with none are named in the
incident channel (or where the commander asked). Reminders are scheduled jobs in Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from bot.context import Context
from bot.events import Event, RollCallRequested
from bot.facility import Department
from bot.models import Incident, State
from bot.reply import Action, Reply
from bot.transports.base import DeliveryFailed, Transport
from handlers.board import effective_state

log = structlog.get_logger(__name__)
ROLLCALL_JOB = "rollcall"
_DEPARTMENT_CHANNEL = {"slack": "slack_channel", "matrix": "matrix_room"}


async def missing_departments(ctx: Context, incident: Incident) -> list[Department]:
    """Departments with no check-in this period, or whose last one is stale."""
    departments = ctx.facility.departments
    latest = await ctx.store.latest_checkins([d.id for d in departments])
    now = ctx.now()
    missing = []
    for dept in departments:
        state, stale = effective_state(latest.get(dept.id), incident, now, ctx)
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


def ask_reply(dept: Department, incident: Incident, reminder: bool) -> Reply:
    first = "Reminder — " if reminder else ""
    return Reply(
        title=f"{first}Roll call for {incident.id}: {dept.name}, please check in",
        lines=[f"Reply with: status {dept.id} <up|partial|down> [note], or press a button."],
        actions=[
            Action(label="Up", command=f"status {dept.id} up", style="primary"),
            Action(label="Partial", command=f"status {dept.id} partial"),
            Action(label="Down", command=f"status {dept.id} down", style="danger"),
        ],
    )


class RollCaller:
    def __init__(self, ctx: Context, transports: Mapping[str, Transport]) -> None:
        self._ctx = ctx
        self._transports = transports

    async def on_event(self, event: Event) -> None:
        if isinstance(event, RollCallRequested):
            await self.ask(event)

    async def ask(self, event: RollCallRequested) -> None:
        incident = await self._ctx.store.incident(event.incident_id)
        if incident is None:
            return
        by_id = {d.id: d for d in self._ctx.facility.departments}
        departments = [by_id[d] for d in event.departments if d in by_id]
        for name, transport in self._transports.items():
            unreachable = []
            for dept in departments:
                channel = getattr(dept, _DEPARTMENT_CHANNEL.get(name, ""), None)
                if channel:
                    await self._post(transport, channel, ask_reply(dept, incident, event.reminder))
                else:
                    unreachable.append(dept)
            channel = self._incident_channel(name, event)
            if unreachable and channel:
                await self._post(transport, channel, self._summary(unreachable, incident, event))

    def _incident_channel(self, transport: str, event: RollCallRequested) -> str | None:
        configured = getattr(self._ctx.facility.channels.incident, transport, None)
        if configured:
            return str(configured)
        return event.origin_channel if event.origin_transport == transport else None

    def _summary(
        self, departments: list[Department], incident: Incident, event: RollCallRequested
    ) -> Reply:
        first = "Reminder — roll call" if event.reminder else "Roll call"
        names = ", ".join(d.name for d in departments)
        return Reply(
            title=f"{first} for {incident.id}, period {incident.period}",
            lines=[
                f"Still to check in: {names}.",
                "Reply with: status <department> <up|partial|down> [note]",
            ],
        )

    async def _post(self, transport: Transport, channel: str, reply: Reply) -> None:
        try:
            await transport.post(channel, reply)
        except DeliveryFailed as failure:
            log.error("rollcall.not_delivered", channel=channel, reason=failure.reason)

    async def remind(self, job: dict[str, Any]) -> datetime | None:
        """The scheduled reminder: ask again whoever is still missing; stop when nobody is or
        the incident is closed."""
        incident = await self._ctx.store.open_incident()
        if incident is None or incident.id != job["incident"]:
            return None
        missing = await missing_departments(self._ctx, incident)
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
        return self._ctx.now() + self._ctx.facility.rollcall_interval
