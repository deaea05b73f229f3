"""Replays the spool into the store when Redis answers again: oldest file first, entries in the
order they were written, each with its original idempotency key, time and actor."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bot.domain.errors import CheckInResent, IncidentNotOpen, StoreUnavailable
from bot.domain.events import BoardChanged, BroadcastAcked, Event
from bot.domain.models import CheckIn
from bot.observability.metrics import Metrics
from bot.storage.spool import JournalFile, Spool, SpooledEntry
from bot.storage.store import Store

log = structlog.get_logger(__name__)
_CHUNK = 64
OnReplayed = Callable[[Event], None]  # what a replayed write changed (the board, an ack count)


class NotNow(Exception):
    """Redis went away again (or the incident kept changing): stop, try again later."""


@dataclass(frozen=True)
class Replayed:
    recorded: int = 0
    duplicate: int = 0  # already in the log (replayed before, or a resend)
    rejected: int = 0  # could not be replayed; kept in rejected.jsonl for IT


class SpoolReplayer:
    def __init__(
        self,
        spool: Spool,
        store: Store,
        metrics: Metrics,
        on_replayed: OnReplayed,
        poll: float,
    ) -> None:
        self._spool = spool
        self._store = store
        self._metrics = metrics
        self._on_replayed = on_replayed
        self._poll = poll
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._running = asyncio.Lock()

    async def start(self) -> None:
        """Adopt journals left by dead processes, replay what can be replayed now, then keep
        looking for Redis (and for orphans) every `poll` seconds."""
        if self._task is None:
            self._spool.adopt_orphans()
            if self._spool.pending:
                await self.replay()
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name="spool-replay")

    async def stop(self) -> None:
        """Stop looking; one last pass if Redis answers, so a clean stop leaves no spool."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._spool.pending:
            await self.replay()
        self._spool.close()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                self._spool.adopt_orphans()
                if self._spool.pending:
                    await self.replay()
            except Exception:  # the loop must outlive any one bad pass
                log.exception("spool.replay_pass_failed")
            self._metrics.spool_depth(self._spool.entries)
            await asyncio.sleep(self._poll)

    async def replay(self) -> Replayed:
        """One pass over every file awaiting replay, if Redis answers; what it did."""
        async with self._running:
            totals = Replayed()
            try:
                if not await self._store.ping():
                    return totals
            except StoreUnavailable:
                return totals
            for journal in await self._spool.seal():
                try:
                    done = await self._replay_file(journal)
                except NotNow:
                    break
                totals = Replayed(
                    totals.recorded + done.recorded,
                    totals.duplicate + done.duplicate,
                    totals.rejected + done.rejected,
                )
                self._spool.discard(journal)
            self._metrics.spool_depth(self._spool.entries)
            return totals

    async def _replay_file(self, journal: JournalFile) -> Replayed:
        """Entries go out in chunks started in order in one loop turn: the store pipelines them,
        and Redis runs a pipeline's scripts in the order sent. The first goes alone, so the
        store knows the open incident before the rest."""
        counts = {"recorded": 0, "duplicate": 0, "rejected": 0}
        entries = journal.read()
        start = 0
        while start < len(entries):
            size = 1 if start == 0 else _CHUNK
            chunk = entries[start : start + size]
            start += size
            results = await asyncio.gather(
                *(self._replay_entry(entry) for entry in chunk), return_exceptions=True
            )
            later = False
            for entry, result in zip(chunk, results, strict=True):
                if isinstance(result, StoreUnavailable | IncidentNotOpen):
                    later = True
                    continue
                if isinstance(result, BaseException):
                    log.error("spool.entry_rejected", ref=entry.ref, error=repr(result))
                    self._keep_rejected(entry)
                    result = "rejected"
                counts[result] += 1
                self._metrics.spool_replayed(result)
            if later:  # the ones that did go in are no-ops next time (idempotency keys)
                raise NotNow
        log.info("spool.replayed", path=journal.path.name, **counts)
        return Replayed(**counts)

    async def _replay_entry(self, entry: SpooledEntry) -> str:
        if entry.op == "checkin":
            checkin = CheckIn.model_validate(entry.payload)
            try:
                filed = await self._store.replay_checkin(entry.command_id, checkin)
            except CheckInResent:
                return "duplicate"
            self._on_replayed(BoardChanged(filed.incident_id))
            return "duplicate" if filed.committed.duplicate else "recorded"
        if entry.op == "ack":
            acked = await self._store.broadcasts.replay_ack(entry.command_id, entry.payload)
            if acked is None:
                return "duplicate"
            self._on_replayed(BroadcastAcked(acked))
            return "recorded"
        if entry.op == "note":
            committed = await self._store.replay_note(entry.command_id, entry.payload)
            return "duplicate" if committed.duplicate else "recorded"
        if entry.op == "step":
            return await self._store.runbooks.replay_step(entry.command_id, entry.at, entry.payload)
        raise ValueError(f"unknown spooled write {entry.op!r}")

    def _keep_rejected(self, entry: SpooledEntry) -> None:
        with open(self._spool.directory / "rejected.jsonl", "ab") as kept:
            kept.write(entry.line())
