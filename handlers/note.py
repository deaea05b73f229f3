"""`note <text>`: a free-text line in the incident log (HICS 214), kept with who wrote it."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import Spooled, StoreUnavailable, UserError
from bot.domain.models import LogEntry, LogKind
from bot.domain.parsing import check_note
from bot.domain.reply import Reply
from bot.views.spooled import spooled_reply

USAGE = "note <text>"


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    text = check_note(words.rest(1))
    if not text:
        raise UserError("Write the note after the word note.", usage=USAGE)
    text = ctx.screen(command, text, "note")
    data = {"link": command.reference} if command.reference else {}
    try:
        if not ctx.store.spool_pending:  # else earlier writes wait in the spool: go behind them
            return await _record(command, text, data, ctx)
    except StoreUnavailable:
        pass
    entry = LogEntry(at=ctx.now(), kind=LogKind.NOTE, actor=command.actor, text=text, data=data)
    try:
        await ctx.store.spool_note(command.id, entry)
    except Spooled as spooled:
        then = "It will reach the shared log, in the open incident"
        return spooled_reply(spooled.ref, f"note by {command.actor.name}", then, text)


async def _record(command: Command, text: str, data: dict[str, str], ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    entry = LogEntry(
        at=ctx.now(),
        incident_id=incident.id if incident else None,
        kind=LogKind.NOTE,
        actor=command.actor,
        text=text,
        data=data,
    )
    committed = await ctx.store.append(command.id, entry)
    where = incident.id if incident else "the log (no incident open)"
    again = " (already recorded)" if committed.duplicate else ""
    return Reply(
        lines=[f"Recorded{again} in {where}: note by {command.actor.name}.", f"Note: {text}"],
        ephemeral=True,
        outcome="recorded",
    )


SPEC = CommandSpec(
    name="note",
    summary="Add a line to the incident log.",
    usage=(USAGE,),
    examples=("note generator 2 refuelled, 6 h of fuel on site",),
    handler=run,
)
