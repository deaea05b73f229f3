"""The web board's snapshot: what the chat board shows, plus broadcasts, roll call, runbooks
and the latest log entries, as plain values the page draws (it never reads Redis itself)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from bot.domain.broadcast import PRIORITY_LABELS, Broadcast
from bot.domain.department_state import effective_state, state_summary
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import CheckIn, Incident, LogEntry, LogKind, State
from bot.domain.timefmt import format_age, format_duration, format_time

# The same markers as the chat board's text form, so a greyscale print or a screen reader
# gets the state without the colour.
MARKERS = {"up": "+", "partial": "~", "down": "X", "na": "-", "unknown": "?", "stale": "!"}
LABELS = {"up": "UP", "partial": "PARTIAL", "down": "DOWN", "na": "N/A", "unknown": "NO REPORT"}


class WallDepartment(BaseModel):
    id: str
    name: str
    state: str  # up, partial, down, na, unknown
    label: str  # UP, PARTIAL, ... — the text marker
    marker: str  # + ~ X - ? !
    meaning: str  # Fully functional, ... No report
    stale: bool
    note: str
    by: str
    when: str


class WallIncident(BaseModel):
    id: str
    title: str
    severity: int
    drill: bool
    open: bool
    commander: str
    period: int
    period_window: str
    opened: str
    age: str
    summary: str


class WallBroadcast(BaseModel):
    id: str
    priority: str
    priority_label: str
    text: str
    sender: str
    when: str
    acks: int
    channels: int
    channels_acked: int
    percent: int | None  # of the channels it went to that have acknowledged


class WallRollCall(BaseModel):
    asked: str | None  # when the last roll call of this period was asked
    reported: int
    total: int
    percent: int
    missing: list[str]


class WallRunbook(BaseModel):
    id: str
    title: str
    done: int
    total: int
    percent: int


class WallLogEntry(BaseModel):
    when: str
    kind: str
    department: str
    who: str
    text: str


class WallBoard(BaseModel):
    facility: str
    headline: str
    incident: WallIncident | None
    departments: list[WallDepartment]
    summary: str
    stale_after: str
    broadcasts: list[WallBroadcast]
    rollcall: WallRollCall | None
    runbooks: list[WallRunbook]
    log: list[WallLogEntry]
    updated: str
    generated_at: str


@dataclass(frozen=True)
class BroadcastTally:
    broadcast: Broadcast
    acks: int
    channels: int
    channels_acked: int


@dataclass(frozen=True)
class RunbookProgress:
    id: str
    title: str
    done: int
    total: int


@dataclass(frozen=True)
class WallInputs:
    """What the store holds about the incident the board shows."""

    incident: Incident | None
    latest: Mapping[str, CheckIn]
    broadcasts: Sequence[BroadcastTally]
    rollcall_asked: datetime | None
    runbooks: Sequence[RunbookProgress]
    log: Sequence[LogEntry]


def wall_board(facility: FacilityConfig, inputs: WallInputs, now: datetime) -> WallBoard:
    incident = inputs.incident
    rows = [
        _department(d, inputs.latest.get(d.id), incident, now, facility)
        for d in facility.departments
    ]
    states = [State(row.state) for row in rows]
    open_now = incident is not None and incident.closed_at is None
    return WallBoard(
        facility=facility.facility,
        headline=_headline(incident),
        incident=_incident(incident, facility, now) if incident else None,
        departments=rows,
        summary=state_summary(states, lambda s: s.label),
        stale_after=format_duration(facility.checkin_interval),
        broadcasts=[_broadcast(t, facility, now) for t in inputs.broadcasts],
        rollcall=_rollcall(rows, inputs.rollcall_asked, facility, now) if open_now else None,
        runbooks=[_runbook(r) for r in inputs.runbooks],
        log=[_entry(e, facility, now) for e in inputs.log],
        updated=format_time(now, facility.tz, now),
        generated_at=now.isoformat(),
    )  # fmt: skip


def _headline(incident: Incident | None) -> str:
    if incident is None:
        return "No incident is open, and none has been yet."
    if incident.closed_at is not None:
        return f"No incident is open. The last one, {incident.id}, is shown as it closed."
    return ""


def _incident(incident: Incident, facility: FacilityConfig, now: datetime) -> WallIncident:
    tz = facility.tz
    start = format_time(incident.period_started_at, tz, now)
    end = format_time(incident.period_ends_at, tz, now)
    until = incident.closed_at or now
    return WallIncident(
        id=incident.id,
        title=incident.title,
        severity=incident.severity,
        drill=incident.drill,
        open=incident.closed_at is None,
        commander=incident.commander.name,
        period=incident.period,
        period_window=f"{start}–{end}",
        opened=format_time(incident.opened_at, tz, now),
        age=format_age(until - incident.opened_at),
        summary=incident.summary,
    )


def _department(
    dept: Department,
    checkin: CheckIn | None,
    incident: Incident | None,
    now: datetime,
    facility: FacilityConfig,
) -> WallDepartment:
    state, stale = effective_state(checkin, incident, now, facility.checkin_interval)
    shown = checkin if checkin is not None and state is not State.UNKNOWN else None
    when = format_time(shown.at, facility.tz, now) if shown else ""
    if shown and stale:
        when += f" ({format_age(now - shown.at)} ago)"
    return WallDepartment(
        id=dept.id,
        name=dept.name,
        state=state.value,
        label=LABELS[state.value] + (" (STALE)" if stale else ""),
        marker=MARKERS["stale" if stale else state.value],
        meaning=state.label,
        stale=stale,
        note=shown.note if shown else "",
        by=shown.actor.name if shown else "",
        when=when,
    )


def _broadcast(tally: BroadcastTally, facility: FacilityConfig, now: datetime) -> WallBroadcast:
    b = tally.broadcast
    percent = round(100 * tally.channels_acked / tally.channels) if tally.channels else None
    return WallBroadcast(
        id=b.id,
        priority=b.priority,
        priority_label=PRIORITY_LABELS[b.priority],
        text=b.text,
        sender=b.sender.name,
        when=format_time(b.at, facility.tz, now),
        acks=tally.acks,
        channels=tally.channels,
        channels_acked=tally.channels_acked,
        percent=percent,
    )


def _rollcall(
    rows: Sequence[WallDepartment], asked: datetime | None, facility: FacilityConfig, now: datetime
) -> WallRollCall:
    missing = [row.name for row in rows if row.state == State.UNKNOWN.value or row.stale]
    reported = len(rows) - len(missing)
    return WallRollCall(
        asked=format_time(asked, facility.tz, now) if asked else None,
        reported=reported,
        total=len(rows),
        percent=round(100 * reported / len(rows)) if rows else 0,
        missing=missing,
    )


def _runbook(progress: RunbookProgress) -> WallRunbook:
    percent = round(100 * progress.done / progress.total) if progress.total else 0
    return WallRunbook(
        id=progress.id,
        title=progress.title,
        done=progress.done,
        total=progress.total,
        percent=percent,
    )


def _entry(entry: LogEntry, facility: FacilityConfig, now: datetime) -> WallLogEntry:
    text = entry.text
    if entry.kind is LogKind.CHECKIN:
        state = str(entry.data.get("state", "")).upper()
        text = f"{state} — {entry.text}" if entry.text else state
    return WallLogEntry(
        when=format_time(entry.at, facility.tz, now),
        kind=entry.kind.value,
        department=entry.department or "",
        who=entry.actor.name,
        text=text,
    )
