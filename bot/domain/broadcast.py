"""Broadcasts: HICS 213 General Messages, their priorities, and acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from bot.domain.models import Actor, FrozenModel

Priority = Literal["urgent", "normal", "info"]
PRIORITY_LABELS: dict[str, str] = {
    "urgent": "Urgent-High",
    "normal": "Non-urgent-Medium",
    "info": "Informational-Low",
}


class Broadcast(FrozenModel):
    id: str
    incident_id: str | None
    priority: Priority
    text: str
    sender: Actor
    sender_role: str
    at: datetime
    origin_channel: str | None = None


class Ack(FrozenModel):
    actor: Actor
    at: datetime
    channel: str | None = None
