"""The status board (HICS 251 in chat form): one row per department for the current period."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.context import Context
from bot.facility import Department
from bot.models import CheckIn, Incident, State
from bot.reply import Reply, ReplyField, Row, Table
from bot.timefmt import format_age, format_time

STALE = "stale"


def effective_state(
    checkin: CheckIn | None, incident: Incident | None, now: datetime, ctx: Context
) -> tuple[State, bool]:
    """The state the board shows and whether it is stale. With an incident open, only check-ins
    of its current period count; older ones leave the department `unknown`."""
    if checkin is None:
        return State.UNKNOWN, False
    if incident is not None and (
        checkin.incident_id != incident.id or checkin.period != incident.period
    ):
        return State.UNKNOWN, False
    return checkin.state, now - checkin.at > ctx.facility.checkin_interval


def incident_label(incident: Incident | None) -> str:
    """`INC-20261122-1 [DRILL] Teams outage (sev 2), period 1`, or `no incident open`."""
    if incident is None:
        return "no incident open"
    flags = (" [DRILL]" if incident.drill else "") + (" [CLOSED]" if incident.closed_at else "")
    return (
        f"{incident.id}{flags} {incident.title} (sev {incident.severity}), period {incident.period}"
    )


def board_title(incident: Incident | None, ctx: Context) -> str:
    return f"Status board — {ctx.facility.facility} — {incident_label(incident)}"


async def build_board(ctx: Context, incident_id: str | None = None) -> Reply:
    """The board of the open incident, or of `incident_id` (closed: its final state)."""
    incident = await (ctx.store.incident(incident_id) if incident_id else ctx.store.open_incident())
    departments = ctx.facility.departments
    latest = await ctx.store.latest_checkins([dept.id for dept in departments])
    now = ctx.now()
    table = Table(columns=["Department", "State", "Note", "By", "When"])
    counts: Counter[State] = Counter()
    for dept in departments:
        row, state = _row(dept, latest.get(dept.id), incident, now, ctx)
        counts[state] += 1
        table.rows.append(row)
    summary = " · ".join(
        f"{state.label} {counts[state]}"
        for state in (State.DOWN, State.PARTIAL, State.UP, State.NA, State.UNKNOWN)
        if counts[state]
    )
    interval = int(ctx.facility.checkin_interval.total_seconds() // 60)
    return Reply(
        title=board_title(incident, ctx),
        table=table,
        fields=[ReplyField(label="Summary", value=summary)],
        footer=f"Updated {format_time(now, ctx.facility.tz, now)} · stale after {interval}m",
    )


def _row(
    dept: Department,
    checkin: CheckIn | None,
    incident: Incident | None,
    now: datetime,
    ctx: Context,
) -> tuple[Row, State]:
    state, stale = effective_state(checkin, incident, now, ctx)
    if checkin is None:
        return Row(cells=[dept.name, "unknown", "", "", ""], marker=State.UNKNOWN.value), state
    if state is State.UNKNOWN:
        earlier = f"before this period: {checkin.state.value.upper()}"
        when = format_time(checkin.at, ctx.facility.tz, now)
        cells = [dept.name, "unknown", earlier, checkin.actor.name, when]
        return Row(cells=cells, marker=State.UNKNOWN.value), state
    label = state.value.upper() if state is not State.NA else "N/A"
    when = format_time(checkin.at, ctx.facility.tz, now)
    if stale:
        label += " (stale)"
        when += f" ({format_age(now - checkin.at)} ago)"
    marker = STALE if stale else state.value
    return Row(
        cells=[dept.name, label, checkin.note, checkin.actor.name, when], marker=marker
    ), state
