"""`broadcast` (HICS 213 to every channel on every transport) and `ack`."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.broadcast import PRIORITY_LABELS, Ack, Broadcast, Priority
from bot.domain.command import Command, Words
from bot.domain.errors import AlreadyAcknowledged, Spooled, StoreUnavailable, UserError
from bot.domain.events import BroadcastAcked, BroadcastSent
from bot.domain.parsing import check_note
from bot.domain.permissions import (
    COMMAND_ROLES,
    INCIDENT_COMMANDER,
    require,
    require_urgent,
    roles_of,
)
from bot.domain.reply import Reply, ReplyField, Row, Table
from bot.domain.timefmt import format_time
from bot.views.spooled import spooled_reply

USAGE = "broadcast [urgent|normal|info] <text>"
PRIORITIES: tuple[Priority, ...] = ("urgent", "normal", "info")
ROLE_TITLES = {
    INCIDENT_COMMANDER: "Incident Commander",
    "commander": "Command staff",
    "admin": "Administrator",
}


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    require(command, ctx.facility, incident, COMMAND_ROLES, "send broadcasts")
    if len(words) == 1:
        return await _recent(ctx)
    if len(words) == 2 and words.tokens[1].upper().startswith("B-"):
        return await _detail(words.tokens[1].upper(), ctx)
    priority: Priority = "normal"
    start = 1
    if words.lower(1) in PRIORITIES:
        priority = words.lower(1)  # type: ignore[assignment]
        start = 2
    text = check_note(words.rest(start), "broadcast")
    if not text:
        raise UserError("Write the message to send after the priority.", usage=USAGE)
    text = ctx.screen(command, text, "broadcast")
    if priority == "urgent":
        require_urgent(command, ctx.facility, incident)
    roles = roles_of(command, ctx.facility, incident)
    role = next((ROLE_TITLES[r] for r in ROLE_TITLES if r in roles), "Command staff")
    broadcast = Broadcast(
        id=await ctx.store.broadcasts.next_id(),
        incident_id=incident.id if incident else None,
        priority=priority,
        text=text,
        sender=command.actor,
        sender_role=role,
        at=ctx.now(),
        origin_channel=command.channel,
    )
    await ctx.store.broadcasts.record(command.id, broadcast)
    ctx.events.publish(BroadcastSent(broadcast.id, command.actor.transport, command.channel))
    return Reply(
        lines=[
            f"Recorded {broadcast.id} ({PRIORITY_LABELS[priority]}); sending it to every "
            "broadcast channel and the incident channel.",
            f"broadcast {broadcast.id} shows who has acknowledged.",
        ],
        ephemeral=True,
        outcome="recorded",
    )


async def _recent(ctx: Context) -> Reply:
    recent = await ctx.store.broadcasts.recent()
    if not recent:
        return Reply(lines=["No broadcasts yet.", f"Usage: {USAGE}"], ephemeral=True)
    table = Table(columns=["Id", "Priority", "Time", "From", "Acks", "Message"])
    for b in recent:
        acks = await ctx.store.broadcasts.ack_count(b.id)
        when = format_time(b.at, ctx.facility.tz, ctx.now())
        table.rows.append(Row(cells=[b.id, b.priority, when, b.sender.name, str(acks), b.text]))
    return Reply(
        title="Recent broadcasts",
        table=table,
        footer="broadcast B-<n> shows who acknowledged",
        ephemeral=True,
    )


async def _detail(broadcast_id: str, ctx: Context) -> Reply:
    broadcast = await _find(broadcast_id, ctx)
    acks = sorted((await ctx.store.broadcasts.acks(broadcast.id)).values(), key=lambda a: a.at)
    copies = await ctx.store.broadcasts.copies(broadcast.id)
    heard = {a.channel for a in acks}
    silent = [ref.channel for ref in copies if ref.channel not in heard]
    lines = [
        f"{a.actor.name} ({a.actor.transport}) at {format_time(a.at, ctx.facility.tz, ctx.now())}"
        for a in acks
    ] or ["Nobody has acknowledged yet."]
    fields = [
        ReplyField(
            label="Acknowledged", value=f"{len(acks)} {'person' if len(acks) == 1 else 'people'}"
        ),
        ReplyField(
            label="Channels without an ack",
            value=f"{len(silent)} of {len(copies)}" + (f": {', '.join(silent)}" if silent else ""),
        ),
    ]
    return Reply(
        title=f"{broadcast.id}: {broadcast.text}", fields=fields, lines=lines, ephemeral=True
    )


async def _find(broadcast_id: str, ctx: Context) -> Broadcast:
    broadcast = await ctx.store.broadcasts.get(broadcast_id)
    if broadcast is None:
        raise UserError(
            f"There is no broadcast {broadcast_id}. Type broadcast to list recent ones."
        )
    return broadcast


async def run_ack(command: Command, words: Words, ctx: Context) -> Reply:
    wanted = words.tokens[1].upper() if len(words) > 1 else None
    ack = Ack(actor=command.actor, at=ctx.now(), channel=command.channel)
    try:
        if not ctx.store.spool_pending:  # else earlier writes wait in the spool: go behind them
            return await _acknowledge(command, wanted, ack, ctx)
    except StoreUnavailable:
        pass
    try:
        await ctx.store.broadcasts.spool_ack(command.id, wanted, ack)
    except Spooled as spooled:
        return _ack_spooled(spooled.ref, wanted)


async def _acknowledge(command: Command, wanted: str | None, ack: Ack, ctx: Context) -> Reply:
    if wanted is not None:
        broadcast = await _find(wanted, ctx)
    else:
        recent = await ctx.store.broadcasts.recent(limit=1)
        if not recent:
            raise UserError("There is no broadcast to acknowledge.")
        broadcast = recent[0]
    try:
        await ctx.store.broadcasts.acknowledge(command.id, broadcast, ack)
    except AlreadyAcknowledged as earlier:
        when = format_time(earlier.ack.at, ctx.facility.tz, ctx.now())
        return Reply(lines=[f"You already acknowledged {broadcast.id} at {when}."], ephemeral=True)
    ctx.events.publish(BroadcastAcked(broadcast.id))
    count = await ctx.store.broadcasts.ack_count(broadcast.id)
    return Reply(
        lines=[f"Acknowledged {broadcast.id} ({count} so far). Thank you."],
        ephemeral=True,
        outcome="recorded",
    )


def _ack_spooled(ref: str, wanted: str | None) -> Reply:
    what = f"your acknowledgement of {wanted or 'the latest broadcast'}"
    return spooled_reply(ref, what, "It will be counted")


SPEC = CommandSpec(
    name="broadcast",
    summary="Send a message to every channel on every transport, with acknowledgements.",
    usage=(USAGE, "broadcast", "broadcast B-<n>"),
    notes=(
        "urgent pings every channel, so it needs the commander or admin role (unless the "
        "facility file sets broadcast_policy: {urgent_needs_role: false}); the incident's own "
        "commander may send normal and info.",
    ),
    examples=(
        "broadcast urgent Do not power on or log in to Windows PCs until IT says so",
        "broadcast Teams is down: use this workspace for all incident messages",
        "broadcast info Next briefing 14:00 in the command center",
        "broadcast B-3",
    ),
    handler=run,
    roles=COMMAND_ROLES,
)

ACK_SPEC = CommandSpec(
    name="ack",
    aliases=("acknowledge",),
    summary="Acknowledge a broadcast (the latest one if no id is given).",
    usage=("ack [B-<n>]",),
    examples=("ack", "ack B-3"),
    handler=run_ack,
)
