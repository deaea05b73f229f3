"""Domain vocabulary of DESIGN.md: actors, department states, check-ins, incidents, log entries."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.user_text import one_line

Transport = Literal["slack", "matrix", "console", "system"]


class State(StrEnum):
    """HICS 251 scale, plus `unknown` for a department with no check-in this period."""

    UP = "up"
    PARTIAL = "partial"
    DOWN = "down"
    NA = "na"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    State.UP: "Fully functional",
    State.PARTIAL: "Partially functional",
    State.DOWN: "Non-functional",
    State.NA: "N/A",
    State.UNKNOWN: "No report",
}

STATE_ALIASES: dict[str, State] = {
    **dict.fromkeys(("up", "green", "ok", "full", "fully", "functional", "normal"), State.UP),
    **dict.fromkeys(("partial", "yellow", "degraded", "limited", "partially"), State.PARTIAL),
    **dict.fromkeys(("down", "red", "out", "nonfunctional", "non-functional"), State.DOWN),
    **dict.fromkeys(("na", "n/a", "n.a.", "none"), State.NA),
}

REPORTABLE_STATES = (State.UP, State.PARTIAL, State.DOWN, State.NA)


class LogKind(StrEnum):
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_CLOSED = "incident.closed"
    INCIDENT_HANDOFF = "incident.handoff"
    INCIDENT_PERIOD = "incident.period"
    CHECKIN = "checkin"
    BROADCAST = "broadcast"
    BROADCAST_ACK = "broadcast.ack"
    RUNBOOK_STARTED = "runbook.started"
    RUNBOOK_STEP = "runbook.step"
    ROLLCALL = "rollcall"
    NOTE = "note"
    DENIED = "denied"
    EXPORT = "export"
    BOARD_LINK = "board.link"
    BOARD_REVOKE = "board.revoke"


class FrozenModel(BaseModel):
    """Domain values are immutable once made."""

    model_config = ConfigDict(frozen=True)


class Actor(FrozenModel):
    """Who did something: a platform user id, their display name and the transport they used."""

    id: str = Field(min_length=1)  # nobody is never an actor: a payload without one is refused
    name: str
    transport: Transport

    @field_validator("name")
    @classmethod
    def _shown_as_typed(cls, name: str) -> str:
        """Display names are user text too (a Slack profile, a Matrix displayname)."""
        return one_line(name)


class CheckIn(FrozenModel):
    department: str
    state: State
    note: str = ""
    actor: Actor
    at: datetime
    incident_id: str | None = None
    period: int | None = None
    entry_id: str = ""


class Incident(FrozenModel):
    id: str
    title: str
    severity: int = Field(ge=1, le=3)
    commander: Actor
    drill: bool = False
    opened_at: datetime
    closed_at: datetime | None = None
    summary: str = ""
    period: int = 1
    period_started_at: datetime
    period_hours: float = 12

    @property
    def period_ends_at(self) -> datetime:
        return self.period_started_at + timedelta(hours=self.period_hours)


class LogEntry(FrozenModel):
    """One immutable record of the HICS 214-style activity log."""

    id: str = ""
    at: datetime
    incident_id: str | None = None
    kind: LogKind
    actor: Actor
    department: str | None = None
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
