"""The one store: domain methods over Redis. Handlers talk to this, never to Redis."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, cast

from redis.asyncio import Redis

from bot.domain.delivery import MessageRef
from bot.domain.errors import (
    CheckInResent,
    IncidentAlreadyOpen,
    IncidentNotOpen,
    Spooled,
    StoreUnavailable,
)
from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import CheckIn, Incident, LogEntry, LogKind
from bot.domain.outbox import OutboxMessage
from bot.storage.board_links import BoardLinkKeys
from bot.storage.broadcasts import Broadcasts
from bot.storage.domain_errors import UNREACHABLE, speaks_domain
from bot.storage.keys import Keys
from bot.storage.log_reader import LogReader
from bot.storage.outbox import Outbox
from bot.storage.people import People
from bot.storage.runbook_runs import RunbookRuns
from bot.storage.schedule import Schedule
from bot.storage.spool import Spool
from bot.storage.unit_of_work import (
    ENTRY_ID,
    Committed,
    Committer,
    GuardFailed,
    UnitOfWork,
    as_text,
)

_UNKNOWN = object()
_MARKER_RETRIES = 5
EVENT_MEMORY_SECONDS = 24 * 3600
RESEND_WINDOW_SECONDS = 120


@dataclass(frozen=True)
class FiledCheckIn:
    committed: Committed
    incident_id: str | None
    period: int | None


_RESEND_GUARD = 2


def _fingerprint(checkin: CheckIn, marker: str | None) -> str:
    """Who said what about the department, under which incident period."""
    what = "\x1f".join((checkin.actor.id, checkin.state.value, checkin.note, marker or ""))
    return hashlib.blake2b(what.encode(), digest_size=12).hexdigest()


def _marker(incident: Incident) -> str:
    return f"{incident.id} {incident.period}"


def _parse_marker(marker: str | None) -> tuple[str | None, int | None]:
    if marker is None:
        return None, None
    incident_id, period = marker.rsplit(" ", 1)
    return incident_id, int(period)


@speaks_domain
class Store:
    def __init__(
        self,
        redis: Redis,
        facility: FacilityConfig,
        *,
        resend_window: int = RESEND_WINDOW_SECONDS,
        spool: Spool | None = None,
    ) -> None:
        self.redis = redis
        self.facility = facility
        self.resend_window = resend_window
        self.spool = spool
        self.keys = Keys(facility.slug)
        self._committer = Committer(redis, self.keys)
        self.log = LogReader(redis, self.keys)
        self._marker_cache: str | object | None = _UNKNOWN
        self.runbooks = RunbookRuns(redis, self.keys, self._committer, spool)
        self.broadcasts = Broadcasts(redis, self.keys, self._committer, spool)
        self.schedule = Schedule(redis, self.keys)
        self.people = People(redis, self.keys, self.log)
        self.board_links = BoardLinkKeys(redis, self.keys)
        self.outbox = Outbox(redis, self.keys, self._committer)

    @property
    def spool_pending(self) -> bool:
        """Spooled writes still wait for Redis: new in-the-moment writes go behind them."""
        return self.spool is not None and self.spool.pending

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        """True the first time a platform's event id is seen (shared by replicas, kept a day), so
        retried deliveries (Slack's `X-Slack-Retry-Num`, Socket Mode `retry_attempt`) run once."""
        key = self.keys.platform_event(platform, event_id)
        return bool(await self.redis.set(key, "1", nx=True, ex=EVENT_MEMORY_SECONDS))

    async def append(self, command_id: str, entry: LogEntry) -> Committed:
        """Append a log entry with no other state change (notes, refusals, exports)."""
        return await self._committer.commit(UnitOfWork(entry, command_id))

    async def spool_note(self, command_id: str, entry: LogEntry) -> NoReturn:
        """Keep a note in the local spool (Redis is unreachable): raises Spooled(ref), or
        StoreUnavailable with no spool or a full one. It is filed under the incident open when
        it is replayed."""
        if self.spool is None:
            raise StoreUnavailable("no spool")
        payload = entry.model_dump(mode="json", exclude={"id", "incident_id"})
        raise Spooled(await self.spool.append("note", command_id, entry.at, payload))

    async def replay_note(self, command_id: str, payload: dict[str, Any]) -> Committed:
        incident = await self.open_incident()
        entry = LogEntry.model_validate(
            {**payload, "incident_id": incident.id if incident else None}
        )
        return await self.append(command_id, entry)

    async def query_log(self, query: LogQuery) -> list[LogEntry]:
        return await self.log.query(query)

    # Incidents -------------------------------------------------------------------------------

    async def open_incident(self) -> Incident | None:
        incident_id = await self.redis.get(self.keys.current_incident)
        if incident_id is None:
            return None
        return await self.incident(as_text(incident_id))

    async def incident(self, incident_id: str) -> Incident | None:
        raw = await self.redis.get(self.keys.incident(incident_id))
        return Incident.model_validate_json(raw) if raw else None

    async def last_incident(self) -> Incident | None:
        """The most recently opened incident, open or closed."""
        newest = cast(list[bytes], await self.redis.zrevrange(self.keys.incidents, 0, 0))
        return await self.incident(as_text(newest[0])) if newest else None

    async def next_incident_id(self, now: datetime) -> str:
        day = now.astimezone(self.facility.tz).strftime("%Y%m%d")
        number = await self.redis.incr(self.keys.incident_sequence(day))
        return f"INC-{day}-{number}"

    async def start_incident(
        self,
        command_id: str,
        incident: Incident,
        entry: LogEntry,
        owed: OutboxMessage | None = None,
    ) -> Committed:
        """`owed` (the board's first post) goes to the outbox in the same write."""
        work = UnitOfWork(entry, command_id)
        if owed is not None:
            self.outbox.add_to(work, owed)
        work.require_absent(self.keys.current_incident)
        work.set(self.keys.incident(incident.id), incident.model_dump_json())
        work.set(self.keys.current_incident, incident.id)
        work.set(self.keys.current_period, _marker(incident))
        work.zadd(self.keys.incidents, incident.opened_at.timestamp(), incident.id)
        self._marker_cache = _UNKNOWN
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
            work.delete(self.keys.current_period)
        else:
            work.set(self.keys.current_period, _marker(incident))
        self._marker_cache = _UNKNOWN
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
            refs.append(MessageRef(as_text(transport), data["channel"], data["message_id"]))
        return refs

    # Check-ins -------------------------------------------------------------------------------

    async def record_checkin(self, command_id: str, checkin: CheckIn) -> FiledCheckIn:
        """Record a check-in; with a spool, raise Spooled(ref) instead of StoreUnavailable while
        Redis is unreachable, and while earlier spooled writes still wait (they go first)."""
        if self.spool is None:
            return await self.replay_checkin(command_id, checkin)
        if not self.spool.pending:
            try:
                return await self._record_checkin(command_id, checkin)
            except (*UNREACHABLE, StoreUnavailable):
                pass
        payload = checkin.model_dump(mode="json", exclude={"incident_id", "period", "entry_id"})
        ref = await self.spool.append("checkin", command_id, checkin.at, payload)
        raise Spooled(ref)

    async def replay_checkin(self, command_id: str, checkin: CheckIn) -> FiledCheckIn:
        """Record a check-in straight into Redis (what a spooled one is replayed with)."""
        return await self._record_checkin(command_id, checkin)

    async def _record_checkin(self, command_id: str, checkin: CheckIn) -> FiledCheckIn:
        """Record a check-in under the incident and period open at the time of the write.

        `checkin.incident_id`/`period` are filled in here. The last seen incident and period are
        cached and verified by a guard inside the write, so the usual check-in is one round trip;
        if the incident changed meanwhile (here or in another process) it re-reads and retries.
        The same person sending the same check-in again within `resend_window` seconds (a resend
        after a lost answer carries a new command id) raises CheckInResent and records nothing.
        """
        for _ in range(_MARKER_RETRIES):
            marker = await self._current_marker()
            incident_id, period = _parse_marker(marker)
            filed = checkin.model_copy(update={"incident_id": incident_id, "period": period})
            try:
                committed = await self._commit_checkin(command_id, filed, marker)
            except GuardFailed as failed:
                if failed.index == _RESEND_GUARD:
                    first = (await self.latest_checkins([checkin.department])).get(
                        checkin.department, filed
                    )
                    raise CheckInResent(first) from None
                self._marker_cache = _UNKNOWN
                continue
            return FiledCheckIn(committed, incident_id, period)
        raise IncidentNotOpen("the incident kept changing during the check-in")

    async def _current_marker(self) -> str | None:
        if self._marker_cache is _UNKNOWN:
            raw = await self.redis.get(self.keys.current_period)
            self._marker_cache = as_text(raw) if raw is not None else None
        return self._marker_cache  # type: ignore[return-value]

    async def _commit_checkin(
        self, command_id: str, checkin: CheckIn, marker: str | None
    ) -> Committed:
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
        if marker is None:
            work.require_absent(self.keys.current_period)
        else:
            work.require_equals(self.keys.current_period, marker)
        # The department's hash says who sent what last, and when: the same again within
        # `resend_window` seconds is a resend (guard 2).
        department = self.keys.department(checkin.department)
        fingerprint = _fingerprint(checkin, marker)
        at = checkin.at.timestamp()
        work.require_not_recent(department, "sent", fingerprint, at, self.resend_window)
        work.hset(
            department,
            {
                "checkin": checkin.model_dump_json(exclude={"entry_id"}),
                "entry_id": ENTRY_ID,
                "sent": f"{fingerprint} {at!r}",
            },
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
                found[dept_id] = checkin.model_copy(update={"entry_id": as_text(row[b"entry_id"])})
        return found

    async def checkin_history(self, dept_id: str, limit: int) -> list[LogEntry]:
        query = LogQuery(departments=[dept_id], kinds=[LogKind.CHECKIN.value], limit=limit)
        return await self.log.query(query)
