"""`status`: the board, one department, or a check-in (`/checkin` on Slack)."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.department_state import effective_state
from bot.domain.errors import CheckInResent, IncidentNotOpen, Spooled, UserError
from bot.domain.events import BoardChanged
from bot.domain.facility import Department
from bot.domain.models import CheckIn, LogEntry, State
from bot.domain.parsing import check_note, parse_state, resolve_department
from bot.domain.reply import Reply, ReplyField
from bot.domain.timefmt import format_time
from bot.services.board import build_board
from bot.views.board import incident_label
from bot.views.checkin_buttons import checkin_actions
from bot.views.spooled import spooled_reply

HISTORY = 5


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    if len(words) == 1:
        return await build_board(ctx.store, ctx.facility, ctx.now())
    dept, next_index = resolve_department(words, 1, ctx.facility)
    if next_index >= len(words):
        return await _department(dept, ctx)
    state = parse_state(words.tokens[next_index])
    note = ctx.screen(command, check_note(words.rest(next_index + 1)), "note")
    return await _check_in(command, dept, state, note, ctx)


async def _check_in(
    command: Command, dept: Department, state: State, note: str, ctx: Context
) -> Reply:
    checkin = CheckIn(department=dept.id, state=state, note=note, actor=command.actor, at=ctx.now())
    try:
        filed = await ctx.store.record_checkin(command.id, checkin)
    except IncidentNotOpen:
        raise UserError(
            "The incident changed (opened, closed or a new period) while this check-in was being "
            "recorded, so nothing was recorded. Send it again."
        ) from None
    except Spooled as spooled:
        what = f"{dept.name} is {state.value.upper()} — {state.label}"
        then = "This check-in will reach the shared log and the board"
        return spooled_reply(spooled.ref, what, then, note)
    except CheckInResent as resent:
        first = resent.first
        when = format_time(first.at, ctx.facility.tz, ctx.now())
        return Reply(
            lines=[
                f"Already recorded at {when}: {dept.name} is {state.value.upper()} — "
                f"{state.label}. You sent the same check-in then, so no second entry was added."
            ],
            ephemeral=True,
            outcome="recorded",
        )
    ctx.events.publish(BoardChanged(filed.incident_id))
    where = (
        f" ({filed.incident_id}, period {filed.period})"
        if filed.incident_id
        else " (no incident open)"
    )
    again = " (already recorded)" if filed.committed.duplicate else ""
    text = f"Recorded{again}: {dept.name} is {state.value.upper()} — {state.label}"
    lines = [text + where]
    if note:
        lines.append(f"Note: {note}")
    return Reply(lines=lines, outcome="recorded")


async def _department(dept: Department, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    now = ctx.now()
    latest = (await ctx.store.latest_checkins([dept.id])).get(dept.id)
    state, stale = effective_state(latest, incident, now, ctx.facility.checkin_interval)
    current = state.value.upper() + (" (stale)" if stale else "")
    fields = [ReplyField(label="State", value=f"{current} — {state.label}")]
    if latest is not None and state.value != "unknown":
        fields.append(ReplyField(label="Note", value=latest.note or "—"))
        when = format_time(latest.at, ctx.facility.tz, now)
        fields.append(ReplyField(label="Reported", value=f"{latest.actor.name} at {when}"))
    history = await ctx.store.checkin_history(dept.id, HISTORY)
    lines = [_history_line(entry, ctx) for entry in history] or ["No check-ins yet."]
    return Reply(
        title=f"{dept.name} — {incident_label(incident)}",
        fields=fields,
        lines=["Recent check-ins:", *lines],
        actions=checkin_actions(dept.id),
    )


def _history_line(entry: LogEntry, ctx: Context) -> str:
    when = format_time(entry.at, ctx.facility.tz, ctx.now())
    state = str(entry.data.get("state", "?")).upper()
    note = f" — {entry.text}" if entry.text else ""
    return f"{when}  {state}  {entry.actor.name}{note}"


SPEC = CommandSpec(
    name="status",
    aliases=("checkin", "check-in"),
    summary="The status board, one department, or a department's check-in.",
    usage=("status", "status <department>", "status <department> <up|partial|down|na> [note]"),
    examples=(
        "status",
        "status pharmacy",
        "status pharmacy down automated cabinets on override",
        "status lab partial critical values phoned, results faxed",
    ),
    handler=run,
)
