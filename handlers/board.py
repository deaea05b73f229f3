"""`board link`, `board revoke`: signed, expiring links to the web board, answered privately."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.models import LogEntry, LogKind
from bot.domain.permissions import LOG_ROLES, require
from bot.domain.reply import Reply
from bot.domain.timefmt import format_duration, format_time
from bot.services.board_links import BoardLinks

USAGE = "board link | board revoke"
NO_WEB_BOARD = "This Lifeline has no web board configured, so there is no link to give."


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    require(command, ctx.facility, incident, LOG_ROLES, "hand out web board links")
    action = words.lower(1)
    if action not in ("link", "revoke"):
        said = f"“{words.tokens[1]}” is not something board can do." if len(words) > 1 else ""
        raise UserError(f"{said} Say board link or board revoke.".strip(), usage=USAGE)
    if ctx.board_links is None:
        raise UserError(NO_WEB_BOARD)
    if action == "link":
        return await _link(command, ctx, ctx.board_links, incident.id if incident else None)
    return await _revoke(command, ctx, ctx.board_links, incident.id if incident else None)


async def _link(
    command: Command, ctx: Context, links: BoardLinks, incident_id: str | None
) -> Reply:
    now = ctx.now()
    issued = await links.issue(now)
    until = format_time(issued.expires, ctx.facility.tz, now)
    await ctx.store.append(
        command.id,
        LogEntry(
            at=now,
            incident_id=incident_id,
            kind=LogKind.BOARD_LINK,
            actor=command.actor,
            text=f"Web board link issued, valid until {until}",
            data={"expires": issued.expires.isoformat()},
        ),
    )
    return Reply(
        title="Web board link (read-only, for the command center and phones)",
        lines=[
            issued.url,
            f"Valid for {format_duration(links.expiry)}, until {until}. Anyone with the link "
            "can read the board: share it only with incident staff. board revoke voids every "
            "link.",
        ],
        ephemeral=True,
        outcome="recorded",
    )


async def _revoke(
    command: Command, ctx: Context, links: BoardLinks, incident_id: str | None
) -> Reply:
    generation = await links.revoke_all()
    await ctx.store.append(
        command.id,
        LogEntry(
            at=ctx.now(),
            incident_id=incident_id,
            kind=LogKind.BOARD_REVOKE,
            actor=command.actor,
            text="Every web board link revoked",
            data={"generation": generation},
        ),
    )
    return Reply(
        lines=[
            "Every web board link issued so far is revoked; open pages stop updating and say "
            "so. board link gives a new one."
        ],
        ephemeral=True,
        outcome="recorded",
    )


SPEC = CommandSpec(
    name="board",
    summary="A signed, expiring link to the live web board (answered privately); revoke all links.",
    usage=(USAGE,),
    examples=("board link", "board revoke"),
    handler=run,
    roles=LOG_ROLES,
)
