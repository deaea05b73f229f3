"""The board as it stands in the store: the open incident's (or a closed one's final) board."""

from __future__ import annotations

from datetime import datetime

from bot.domain.facility import FacilityConfig
from bot.domain.reply import Reply
from bot.storage.store import Store
from bot.views.board import board_reply


async def build_board(
    store: Store, facility: FacilityConfig, now: datetime, incident_id: str | None = None
) -> Reply:
    """The board of the open incident, or of `incident_id` (closed: its final state)."""
    incident = await (store.incident(incident_id) if incident_id else store.open_incident())
    latest = await store.latest_checkins([dept.id for dept in facility.departments])
    return board_reply(facility, incident, latest, now)
