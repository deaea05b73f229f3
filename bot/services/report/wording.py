"""How log entries read in the report: one line of notable activity, a status comment."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.domain.broadcast import PRIORITY_LABELS
from bot.domain.facility import FacilityConfig
from bot.domain.models import LogEntry, LogKind, State

STATE_WORDS = {
    State.UP: "UP",
    State.PARTIAL: "PARTIAL",
    State.DOWN: "DOWN",
    State.NA: "N/A",
    State.UNKNOWN: "no report",
}


def activity_text(entry: LogEntry, facility: FacilityConfig) -> str:
    kind, data = entry.kind, entry.data
    if kind is LogKind.CHECKIN:
        name = _department_name(entry.department, facility)
        state = STATE_WORDS.get(State(str(data.get("state", "unknown"))), "?")
        return f"{name} checked in {state}" + (f": {entry.text}" if entry.text else "")
    if kind is LogKind.BROADCAST:
        priority = PRIORITY_LABELS.get(str(data.get("priority")), "")
        return f"Broadcast {data.get('broadcast', '')} ({priority}): {entry.text}"
    if kind is LogKind.BROADCAST_ACK:
        return f"Acknowledged {data.get('broadcast', '')}"
    if kind is LogKind.INCIDENT_OPENED:
        return f"Opened the incident: {entry.text}"
    if kind is LogKind.INCIDENT_CLOSED:
        return "Closed the incident" + (f": {entry.text}" if entry.text else "")
    if kind is LogKind.DENIED:
        return f"Refused: {entry.text}"
    return entry.text


def state_comment(entry: LogEntry, tz: ZoneInfo) -> str:
    by = f"{entry.actor.name}, {entry.at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}"
    return f"{entry.text} ({by})" if entry.text else f"({by})"


def _department_name(dept_id: str | None, facility: FacilityConfig) -> str:
    for dept in facility.departments:
        if dept.id == dept_id:
            return dept.name
    return dept_id or "?"


def duration(delta: timedelta) -> str:
    """`45s`, `12m`, `1h 05m`, `2d 3h 10m`."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes:02d}m"
