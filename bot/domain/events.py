"""Things that happened, for transports that keep something live (the board, broadcast copies)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.models import Incident


@dataclass(frozen=True)
class BoardChanged:
    incident_id: str | None


@dataclass(frozen=True)
class IncidentOpened:
    incident: Incident
    transport: str
    channel: str | None


@dataclass(frozen=True)
class IncidentClosed:
    incident: Incident


@dataclass(frozen=True)
class BroadcastSent:
    broadcast_id: str
    origin_transport: str
    origin_channel: str | None


@dataclass(frozen=True)
class BroadcastAcked:
    broadcast_id: str


@dataclass(frozen=True)
class RollCallRequested:
    """Ask `departments` to check in; `origin` is where the commander asked (or None)."""

    incident_id: str
    departments: tuple[str, ...]
    origin_transport: str
    origin_channel: str | None
    reminder: bool = False


Event = (
    BoardChanged
    | IncidentOpened
    | IncidentClosed
    | BroadcastSent
    | BroadcastAcked
    | RollCallRequested
)
