"""The status board (HICS 251 in chat form) as a Reply: one row per department for the period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.department_state import effective_state, state_summary
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import CheckIn, Incident, State
from bot.domain.reply import Reply, ReplyField, Row, Table
from bot.domain.timefmt import format_age, format_time

STALE = "stale"


def incident_label(incident: Incident | None) -> str:
    """`INC-20261122-1 [DRILL] Teams outage (sev 2), period 1`, or `no incident open`."""
    if incident is None:
        return "no incident open"
    flags = (" [DRILL]" if incident.drill else "") + (" [CLOSED]" if incident.closed_at else "")
    return (
        f"{incident.id}{flags} {incident.title} (sev {incident.severity}), period {incident.period}"
    )


def board_title(incident: Incident | None, facility: FacilityConfig) -> str:
    return f"Status board — {facility.facility} — {incident_label(incident)}"


def board_reply(
    facility: FacilityConfig,
    incident: Incident | None,
    latest: Mapping[str, CheckIn],
    now: datetime,
) -> Reply:
    table = Table(columns=["Department", "State", "Note", "By", "When"])
    states: list[State] = []
    for dept in facility.departments:
        row, state = _row(dept, latest.get(dept.id), incident, now, facility)
        states.append(state)
        table.rows.append(row)
    interval = int(facility.checkin_interval.total_seconds() // 60)
    return Reply(
        title=board_title(incident, facility),
        table=table,
        fields=[ReplyField(label="Summary", value=state_summary(states, lambda s: s.label))],
        footer=f"Updated {format_time(now, facility.tz, now)} · stale after {interval}m",
    )


def _row(
    dept: Department,
    checkin: CheckIn | None,
    incident: Incident | None,
    now: datetime,
    facility: FacilityConfig,
) -> tuple[Row, State]:
    state, stale = effective_state(checkin, incident, now, facility.checkin_interval)
    if checkin is None:
        return Row(cells=[dept.name, "unknown", "", "", ""], marker=State.UNKNOWN.value), state
    when = format_time(checkin.at, facility.tz, now)
    if state is State.UNKNOWN:
        earlier = f"before this period: {checkin.state.value.upper()}"
        cells = [dept.name, "unknown", earlier, checkin.actor.name, when]
        return Row(cells=cells, marker=State.UNKNOWN.value), state
    label = state.value.upper() if state is not State.NA else "N/A"
    if stale:
        label += " (stale)"
        when += f" ({format_age(now - checkin.at)} ago)"
    marker = STALE if stale else state.value
    return Row(
        cells=[dept.name, label, checkin.note, checkin.actor.name, when], marker=marker
    ), state
