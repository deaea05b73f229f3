"""`incident report [ID]`: the after-action report draft, as Markdown and print-ready HTML."""

from __future__ import annotations

from bot.dispatch.context import Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.models import LogEntry, LogKind
from bot.domain.permissions import LOG_ROLES, require
from bot.domain.reply import Reply
from bot.services.report.files import write_report

USAGE = "incident report [INC-id]"
NONE_YET = "There is no incident to report on yet. Reports cover an incident once it is started."


async def run_report(command: Command, words: Words, ctx: Context) -> Reply:
    current = await ctx.store.open_incident()
    require(command, ctx.facility, current, LOG_ROLES, "get an after-action report")
    if len(words) > 3:
        raise UserError("Name one incident, or none for the latest.", usage=USAGE)
    if len(words) == 3:
        wanted = words.tokens[2].upper()
        incident = await ctx.store.incident(wanted)
        if incident is None:
            raise UserError(
                f"There is no incident {wanted}. Incident ids look like INC-20261122-1.",
                usage=USAGE,
            )
    else:
        incident = current or await ctx.store.last_incident()
        if incident is None:
            raise UserError(NONE_YET)
    now = ctx.now()
    files = await write_report(ctx.store, ctx.facility, incident, now, ctx.files)
    await ctx.store.append(
        command.id,
        LogEntry(
            at=now, incident_id=incident.id, kind=LogKind.EXPORT, actor=command.actor,
            text=f"After-action report draft for {incident.id}",
            data={"report": incident.id, "files": [f.path.name for f in files]},
        ),
    )  # fmt: skip
    draft = "" if incident.closed_at else " (the incident is still open: a report so far)"
    return Reply(
        lines=[
            f"After-action report draft for {incident.id} “{incident.title}”{draft}: "
            f"{files[0].entries:,} log entr{'y' if files[0].entries == 1 else 'ies'}, as "
            "Markdown and as print-ready HTML.",
            "Files: " + ", ".join(f.path.name for f in files),
        ],
        attachments=[f.attachment(incident.id) for f in files],
        ephemeral=True,
    )
