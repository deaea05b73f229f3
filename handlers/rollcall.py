"""`rollcall`: ask every department that has not reported this period, with reminders."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.events import RollCallRequested
from bot.domain.models import LogEntry, LogKind
from bot.domain.outbox import rollcall_asks
from bot.domain.permissions import COMMAND_ROLES, require
from bot.domain.reply import Reply
from bot.domain.timefmt import format_duration
from bot.services.rollcall import missing_departments, rollcall_job

NO_INCIDENT = (
    "No incident is open, so there is no roll call to run. Start one with: incident start <title>"
)


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    require(command, ctx.facility, incident, COMMAND_ROLES, "run a roll call")
    if incident is None:
        raise UserError(NO_INCIDENT)
    missing = await missing_departments(ctx.store, ctx.facility, incident, ctx.now())
    entry = LogEntry(
        at=ctx.now(),
        incident_id=incident.id,
        kind=LogKind.ROLLCALL,
        actor=command.actor,
        text=f"Roll call: {len(missing)} department(s) to report",
        data={"missing": [d.id for d in missing], "period": incident.period},
    )
    if not missing:
        await ctx.store.append(command.id, entry)
        return Reply(lines=[f"Every department has checked in for period {incident.period}."])
    asked = tuple(d.id for d in missing)
    owed = rollcall_asks(incident.id, asked, command.actor.transport, command.channel)
    await ctx.store.outbox.record(command.id, entry, owed)  # the asks are owed with the entry
    job = rollcall_job(incident, command.actor.transport, command.channel)
    await ctx.store.schedule.put(job, ctx.now() + ctx.facility.rollcall_interval)
    ctx.events.publish(
        RollCallRequested(incident.id, asked, command.actor.transport, command.channel)
    )
    every = format_duration(ctx.facility.rollcall_interval)
    return Reply(
        title=f"Roll call for {incident.id}, period {incident.period}",
        lines=[
            f"Asked {len(missing)} department(s) to check in: "
            + ", ".join(d.name for d in missing)
            + ".",
            f"Reminders every {every} until each has checked in or the incident is closed.",
        ],
        outcome="recorded",
    )


SPEC = CommandSpec(
    name="rollcall",
    aliases=("roll-call",),
    summary="Ask every department that has not reported this period to check in.",
    usage=("rollcall",),
    examples=("rollcall",),
    handler=run,
    roles=COMMAND_ROLES,
)
