"""`incident`: show, start, close, hand off command, start the next operational period."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.department_state import effective_state, state_summary
from bot.domain.errors import IncidentAlreadyOpen, IncidentNotOpen, UserError
from bot.domain.events import BoardChanged, IncidentClosed, IncidentOpened
from bot.domain.models import Incident, LogEntry, LogKind
from bot.domain.outbox import board_post
from bot.domain.parsing import check_note, parse_mention
from bot.domain.permissions import COMMAND_ROLES, require
from bot.domain.reply import Reply, ReplyField
from bot.domain.timefmt import format_age, format_time
from bot.domain.user_text import one_line
from handlers.incident_report import run_report

MAX_TITLE_CHARS = 200
USAGE_START = "incident start <title> [sev 1-3] [drill]"
NO_INCIDENT = "No incident is open. Start one with: " + USAGE_START


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    action = words.lower(1)
    if not action:
        return await _show(ctx)
    if action in ("start", "open", "declare"):
        return await _start(command, words, ctx)
    if action in ("report", "aar"):
        return await run_report(command, words, ctx)
    if action not in ("close", "end", "handoff", "hand-off", "transfer", "period"):
        raise UserError(
            f"“{words.tokens[1]}” is not an incident action. Use start, close, handoff, period "
            "or report.",
            usage="incident [start|close|handoff|period|report] ...",
        )
    incident = await ctx.store.open_incident()
    if incident is None:
        raise UserError(NO_INCIDENT)
    if action in ("close", "end"):
        require(command, ctx.facility, incident, COMMAND_ROLES, "close the incident")
        summary = ctx.screen(command, check_note(words.rest(2), "summary"), "summary")
        return await _close(command, incident, summary, ctx)
    if action == "period":
        require(command, ctx.facility, incident, COMMAND_ROLES, "start a new operational period")
        return await _period(command, words, incident, ctx)
    require(command, ctx.facility, incident, COMMAND_ROLES, "hand over command")
    return await _handoff(command, words, incident, ctx)


async def _show(ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    if incident is None:
        return Reply(lines=[NO_INCIDENT], ephemeral=True)
    now = ctx.now()
    tz = ctx.facility.tz
    latest = await ctx.store.latest_checkins([d.id for d in ctx.facility.departments])
    interval = ctx.facility.checkin_interval
    states = [
        effective_state(latest.get(d.id), incident, now, interval)[0]
        for d in ctx.facility.departments
    ]
    reported = state_summary(states, lambda state: state.value)
    period = (
        f"{incident.period} ({format_time(incident.period_started_at, tz, now)}–"
        f"{format_time(incident.period_ends_at, tz, now)})"
    )
    return Reply(
        title=f"{incident.id}{' [DRILL]' if incident.drill else ''} {incident.title}",
        fields=[
            ReplyField(label="Severity", value=str(incident.severity)),
            ReplyField(label="Commander", value=incident.commander.name),
            ReplyField(label="Operational period", value=period),
            ReplyField(
                label="Open for",
                value=f"{format_age(now - incident.opened_at)} "
                f"(since {format_time(incident.opened_at, tz, now)})",
            ),
            ReplyField(label="Departments", value=reported),
        ],
    )


def _parse_start(words: Words) -> tuple[str, int, bool]:
    tokens = words.tokens[2:]
    severity, drill = 2, False
    while tokens:
        last = tokens[-1].lower()
        if last == "drill":
            drill = True
            tokens.pop()
        elif last.startswith("sev") and last[3:].isdigit():
            severity = _severity(last[3:])
            tokens.pop()
        elif len(tokens) >= 2 and tokens[-2].lower() in ("sev", "severity"):
            severity = _severity(last)
            tokens = tokens[:-2]
        else:
            break
    title = one_line(" ".join(tokens)).strip()  # a quoted title may hold line breaks
    if not title:
        raise UserError("Give the incident a title.", usage=USAGE_START)
    if len(title) > MAX_TITLE_CHARS:
        raise UserError(f"That title is {len(title):,} characters; the limit is {MAX_TITLE_CHARS}.")
    return title, severity, drill


def _severity(text: str) -> int:
    if text not in ("1", "2", "3"):
        raise UserError(f"Severity must be 1, 2 or 3 (1 is the most severe), not “{text}”.")
    return int(text)


async def _start(command: Command, words: Words, ctx: Context) -> Reply:
    title, severity, drill = _parse_start(words)
    title = ctx.screen(command, title, "title")
    existing = await ctx.store.open_incident()
    if existing is not None:
        raise UserError(_already_open(existing))
    now = ctx.now()
    incident = Incident(
        id=await ctx.store.next_incident_id(now),
        title=title,
        severity=severity,
        commander=command.actor,
        drill=drill,
        opened_at=now,
        period_started_at=now,
        period_hours=ctx.facility.period_hours,
    )
    entry = LogEntry(
        at=now,
        incident_id=incident.id,
        kind=LogKind.INCIDENT_OPENED,
        actor=command.actor,
        text=title,
        data={"severity": severity, "drill": drill},
    )
    try:
        owed = board_post(incident.id, command.actor.transport, command.channel)
        await ctx.store.start_incident(command.id, incident, entry, owed)
    except IncidentAlreadyOpen as clash:
        raise UserError(_already_open(clash.incident)) from None
    except IncidentNotOpen:
        raise UserError("Another incident was just opened and closed; try again.") from None
    ctx.events.publish(IncidentOpened(incident, command.actor.transport, command.channel))
    drill_note = " This is a DRILL." if drill else ""
    return Reply(
        lines=[
            f"Opened {incident.id}: {title} (severity {severity}).{drill_note}",
            f"{command.actor.name} is incident commander. Operational period 1 has started.",
            "Departments: check in with status <department> <up|partial|down> [note].",
        ],
        outcome="recorded",
    )


def _already_open(incident: Incident) -> str:
    return (
        f"{incident.id} “{incident.title}” is already open (commander {incident.commander.name}). "
        "Close it first with: incident close [summary]"
    )


async def _close(command: Command, incident: Incident, summary: str, ctx: Context) -> Reply:
    now = ctx.now()
    closed = incident.model_copy(update={"closed_at": now, "summary": summary})
    entry = LogEntry(
        at=now, incident_id=incident.id, kind=LogKind.INCIDENT_CLOSED, actor=command.actor,
        text=summary, data={"opened_at": incident.opened_at.isoformat()},
    )  # fmt: skip
    await _update(ctx, command, closed, entry, closing=True)
    ctx.events.publish(IncidentClosed(closed))
    lasted = format_age(now - incident.opened_at)
    lines = [f"Closed {incident.id} after {lasted}."]
    if summary:
        lines.append(f"Summary: {summary}")
    lines.append(
        "The after-action report draft goes to the incident channel as a file; get it again "
        f"any time with: incident report {incident.id}"
    )
    return Reply(lines=lines, outcome="recorded")


async def _handoff(command: Command, words: Words, incident: Incident, ctx: Context) -> Reply:
    target = parse_mention(words.tokens[2], command.actor.transport) if len(words) > 2 else None
    if target is None:
        raise UserError("Name the new incident commander.", usage="incident handoff @user")
    target = await ctx.person(command, target)
    if target.id == incident.commander.id:
        raise UserError(f"{target.name} is already the incident commander.")
    now = ctx.now()
    changed = incident.model_copy(update={"commander": target})
    entry = LogEntry(
        at=now, incident_id=incident.id, kind=LogKind.INCIDENT_HANDOFF, actor=command.actor,
        text=f"Command handed from {incident.commander.name} to {target.name}",
        data={"from": incident.commander.model_dump(), "to": target.model_dump()},
    )  # fmt: skip
    await _update(ctx, command, changed, entry)
    ctx.events.publish(BoardChanged(incident.id))
    return Reply(
        lines=[
            f"{target.name} is now incident commander of {incident.id} "
            f"(was {incident.commander.name})."
        ],
        outcome="recorded",
    )


async def _period(command: Command, words: Words, incident: Incident, ctx: Context) -> Reply:
    hours = ctx.facility.period_hours
    if len(words) > 2:
        try:
            hours = float(words.tokens[2].lower().rstrip("h"))
        except ValueError:
            hours = -1
        if not 1 <= hours <= 72:
            raise UserError(
                f"“{words.tokens[2]}” is not a period length; give hours from 1 to 72.",
                usage="incident period [hours]",
            )
    now = ctx.now()
    number = incident.period + 1
    changed = incident.model_copy(
        update={"period": number, "period_started_at": now, "period_hours": hours}
    )
    entry = LogEntry(
        at=now, incident_id=incident.id, kind=LogKind.INCIDENT_PERIOD, actor=command.actor,
        text=f"Operational period {number} started ({hours:g} h)",
        data={"period": number, "hours": hours},
    )  # fmt: skip
    await _update(ctx, command, changed, entry)
    ctx.events.publish(BoardChanged(incident.id))
    ends = format_time(changed.period_ends_at, ctx.facility.tz, now)
    return Reply(
        lines=[
            f"Operational period {number} of {incident.id} has started; "
            f"it runs {hours:g} h, to {ends}.",
            "Every department shows as unknown until it checks in again.",
        ],
        outcome="recorded",
    )


async def _update(
    ctx: Context, command: Command, incident: Incident, entry: LogEntry, *, closing: bool = False
) -> None:
    try:
        await ctx.store.update_incident(command.id, incident, entry, closing=closing)
    except IncidentNotOpen:
        raise UserError(f"{incident.id} was closed in the meantime; nothing was changed.") from None


SPEC = CommandSpec(
    name="incident",
    summary="Show the open incident, or start, close, hand over or start a new period.",
    usage=(
        "incident",
        USAGE_START,
        "incident close [summary]",
        "incident handoff @user",
        "incident period [hours]",
        "incident report [INC-id]",
    ),
    examples=(
        'incident start "Teams outage" sev 2',
        "incident handoff @dr.lee",
        "incident period 12",
        "incident close Teams restored 14:10, back to normal channels",
        "incident report INC-20261122-1",
    ),
    handler=run,
)
