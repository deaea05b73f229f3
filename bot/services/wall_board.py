"""The web board's snapshot, read from the store: the open incident, or the last one."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import UserError
from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import Incident, LogEntry, LogKind
from bot.services.runbook_library import RunbookLibrary
from bot.storage.store import Store
from bot.views.wall_board import BroadcastTally, RunbookProgress, WallBoard, WallInputs, wall_board

BROADCASTS = 3
LOG_ENTRIES = 20
# Refused commands carry whatever was typed, and link chatter is not news for the wall.
HIDDEN_KINDS = frozenset({LogKind.DENIED, LogKind.BOARD_LINK, LogKind.BOARD_REVOKE})


async def build_wall_board(
    store: Store, facility: FacilityConfig, runbooks: RunbookLibrary, now: datetime
) -> WallBoard:
    incident = await store.open_incident() or await store.last_incident()
    inputs = WallInputs(
        incident=incident,
        latest=await store.latest_checkins([d.id for d in facility.departments]),
        broadcasts=await _broadcasts(store, incident),
        rollcall_asked=await _rollcall_asked(store, incident),
        runbooks=await _runbooks(store, runbooks, incident),
        log=await _log(store, incident),
    )
    return wall_board(facility, inputs, now)


async def _broadcasts(store: Store, incident: Incident | None) -> list[BroadcastTally]:
    recent = await store.broadcasts.recent(limit=10)
    if incident is not None:
        recent = [b for b in recent if b.incident_id == incident.id]
    tallies = []
    for broadcast in recent[:BROADCASTS]:
        acks = await store.broadcasts.acks(broadcast.id)
        copies = {ref.channel for ref in await store.broadcasts.copies(broadcast.id)}
        heard = {ack.channel for ack in acks.values()} & copies
        tallies.append(BroadcastTally(broadcast, len(acks), len(copies), len(heard)))
    return tallies


async def _rollcall_asked(store: Store, incident: Incident | None) -> datetime | None:
    if incident is None:
        return None
    query = LogQuery(kinds=[LogKind.ROLLCALL.value], incident_id=incident.id, limit=1)
    found = await store.query_log(query)
    if found and found[0].data.get("period") == incident.period:
        return found[0].at
    return None


async def _runbooks(
    store: Store, library: RunbookLibrary, incident: Incident | None
) -> list[RunbookProgress]:
    if incident is None:
        return []
    progress = []
    for runbook_id in await store.runbooks.started(incident.id):
        try:
            _, runbook = library.find(runbook_id)
        except UserError:  # the file was removed or broken since: nothing to count against
            continue
        steps = [step.id for step in runbook.steps]
        run = await store.runbooks.load(incident.id, runbook_id, steps)
        done = len(run.marks) if run else 0
        progress.append(RunbookProgress(runbook_id, runbook.title, done, len(steps)))
    return progress


async def _log(store: Store, incident: Incident | None) -> list[LogEntry]:
    query = LogQuery(incident_id=incident.id if incident else None, limit=LOG_ENTRIES * 2)
    entries = await store.query_log(query)
    return [e for e in entries if e.kind not in HIDDEN_KINDS][:LOG_ENTRIES]
