"""The one store: domain methods over Redis. Handlers talk to this, never to Redis."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from redis.asyncio import Redis

from bot.broadcasts import Broadcasts
from bot.facility import FacilityConfig
from bot.keys import Keys
from bot.log_store import LogQuery, LogReader
from bot.models import CheckIn, Incident, LogEntry, LogKind
from bot.runbook_runs import RunbookRuns
from bot.scheduler import Schedule
from bot.transports.base import MessageRef
from bot.unit_of_work import ENTRY_ID, Committed, Committer, GuardFailed, UnitOfWork


class IncidentAlreadyOpen(Exception):
    def __init__(self, incident: Incident) -> None:
        super().__init__(incident.id)
        self.incident = incident


class IncidentNotOpen(Exception):
    """The incident was closed (or replaced) between reading it and writing to it."""


class Store:
    def __init__(self, redis: Redis, facility: FacilityConfig) -> None:
        self.redis = redis
        self.facility = facility
        self.keys = Keys(facility.slug)
        self._committer = Committer(redis, self.keys)
        self.log = LogReader(redis, self.keys)
        self.runbooks = RunbookRuns(redis, self.keys, self._committer)
        self.broadcasts = Broadcasts(redis, self.keys, self._committer)
        self.schedule = Schedule(redis, self.keys)

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def append(self, command_id: str, entry: LogEntry) -> Committed:
        """Append a log entry with no other state change (notes, refusals, exports)."""
        return await self._committer.commit(UnitOfWork(entry, command_id))

    async def query_log(self, query: LogQuery) -> list[LogEntry]:
        return await self.log.query(query)

    # Incidents -------------------------------------------------------------------------------

    async def open_incident(self) -> Incident | None:
        incident_id = await self.redis.get(self.keys.current_incident)
        if incident_id is None:
            return None
        return await self.incident(_text(incident_id))

    async def incident(self, incident_id: str) -> Incident | None:
        raw = await self.redis.get(self.keys.incident(incident_id))
        return Incident.model_validate_json(raw) if raw else None

    async def next_incident_id(self, now: datetime) -> str:
        day = now.astimezone(self.facility.tz).strftime("%Y%m%d")
        number = await self.redis.incr(self.keys.incident_sequence(day))
        return f"INC-{day}-{number}"

    async def start_incident(
        self, command_id: str, incident: Incident, entry: LogEntry
    ) -> Committed:
        work = UnitOfWork(entry, command_id)
        work.require_absent(self.keys.current_incident)
        work.set(self.keys.incident(incident.id), incident.model_dump_json())
        work.set(self.keys.current_incident, incident.id)
        work.zadd(self.keys.incidents, incident.opened_at.timestamp(), incident.id)
        try:
            return await self._committer.commit(work)
        except GuardFailed:
            current = await self.open_incident()
            if current is None:  # closed in between; the caller may simply try again
                raise IncidentNotOpen from None
            raise IncidentAlreadyOpen(current) from None

    async def update_incident(
        self, command_id: str, incident: Incident, entry: LogEntry, *, closing: bool = False
    ) -> Committed:
        """Store a changed incident (handoff, new period, close) if it is still the open one."""
        work = UnitOfWork(entry, command_id)
        work.require_equals(self.keys.current_incident, incident.id)
        work.set(self.keys.incident(incident.id), incident.model_dump_json())
        if closing:
            work.delete(self.keys.current_incident)
        try:
            return await self._committer.commit(work)
        except GuardFailed:
            raise IncidentNotOpen from None

    async def save_board_ref(self, incident_id: str, ref: MessageRef) -> None:
        value = json.dumps({"channel": ref.channel, "message_id": ref.message_id})
        await self.redis.hset(self.keys.board_messages(incident_id), ref.transport, value)

    async def broadcast_for_message(self, transport: str, message_id: str) -> str | None:
        return await self.broadcasts.for_message(transport, message_id)

    async def board_refs(self, incident_id: str) -> list[MessageRef]:
        rows = await self.redis.hgetall(self.keys.board_messages(incident_id))
        refs = []
        for transport, raw in rows.items():
            data = json.loads(raw)
            refs.append(MessageRef(_text(transport), data["channel"], data["message_id"]))
        return refs

    # Check-ins -------------------------------------------------------------------------------

    async def record_checkin(self, command_id: str, checkin: CheckIn) -> Committed:
        entry = LogEntry(
            at=checkin.at,
            incident_id=checkin.incident_id,
            kind=LogKind.CHECKIN,
            actor=checkin.actor,
            department=checkin.department,
            text=checkin.note,
            data={"state": checkin.state.value, "period": checkin.period},
        )
        work = UnitOfWork(entry, command_id)
        work.hset(
            self.keys.department(checkin.department),
            {"checkin": checkin.model_dump_json(exclude={"entry_id"}), "entry_id": ENTRY_ID},
        )
        return await self._committer.commit(work)

    async def latest_checkins(self, dept_ids: Sequence[str]) -> dict[str, CheckIn]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for dept_id in dept_ids:
                pipe.hgetall(self.keys.department(dept_id))
            rows = await pipe.execute()
        found: dict[str, CheckIn] = {}
        for dept_id, row in zip(dept_ids, rows, strict=True):
            if row:
                checkin = CheckIn.model_validate_json(row[b"checkin"])
                found[dept_id] = checkin.model_copy(update={"entry_id": _text(row[b"entry_id"])})
        return found

    async def checkin_history(self, dept_id: str, limit: int) -> list[LogEntry]:
        query = LogQuery(departments=[dept_id], kinds=[LogKind.CHECKIN.value], limit=limit)
        return await self.log.query(query)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
