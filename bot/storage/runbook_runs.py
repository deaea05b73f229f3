"""Runbook runs in Redis: one run per runbook per incident, and steps marked done or undone.

Every change is one unit of work: the state change and its log entry (`runbook.started`,
`runbook.step`) land together or not at all. Guards make a second, simultaneous tick of the same
step a no-op that can say who was first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, NoReturn

from redis.asyncio import Redis

from bot.domain.errors import (
    RunIncidentClosed,
    Spooled,
    StepAlreadyDone,
    StepNotDone,
    StoreUnavailable,
)
from bot.domain.models import Actor, LogEntry, LogKind
from bot.domain.runbook_run import Run, RunStart, StepChange, StepMark
from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys
from bot.storage.spool import Spool
from bot.storage.unit_of_work import Committer, GuardFailed, UnitOfWork, as_text

_RETRIES = 5


@speaks_domain
class RunbookRuns:
    def __init__(
        self, redis: Redis, keys: Keys, committer: Committer, spool: Spool | None = None
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._committer = committer
        self._spool = spool

    async def spool_step(
        self,
        command_id: str,
        change: StepChange,
        run: tuple[str, int],
        action: str,
        actor: Actor,
        at: datetime,
        note: str,
    ) -> NoReturn:
        """Keep a step mark (`action` "done" or "undo") in the local spool while Redis is
        unreachable: raises Spooled(ref), or StoreUnavailable with no spool or a full one.
        `change.incident_id` is not kept: the replay files it under the incident open then.
        `run` is the runbook's title and step count, for starting its run on replay."""
        if self._spool is None:
            raise StoreUnavailable("no spool")
        step = {k: v for k, v in asdict(change).items() if k != "incident_id"}
        payload = {
            "step": step, "title": run[0], "steps": run[1], "action": action,
            "actor": actor.model_dump(mode="json"), "note": note,
        }  # fmt: skip
        raise Spooled(await self._spool.append("step", command_id, at, payload))

    async def replay_step(self, command_id: str, at: datetime, payload: dict[str, Any]) -> str:
        """Replay a spooled step mark under the open incident: "recorded", or "duplicate" when
        it is already so. Raises LookupError when no incident is open any more."""
        raw = await self._redis.get(self._keys.current_incident)
        if raw is None:
            raise LookupError("no incident open to mark the step in")
        change = StepChange(incident_id=as_text(raw), **payload["step"])
        actor = Actor.model_validate(payload["actor"])
        try:
            if payload["action"] == "undo":
                await self.undo(command_id, change, actor, at, payload["note"])
                return "recorded"
            await self.start(
                command_id, change.incident_id, change.runbook_id, payload["title"],
                payload["steps"], actor, at,
            )  # fmt: skip
            await self.mark_done(command_id, change, actor, at, payload["note"])
        except (StepAlreadyDone, StepNotDone):
            return "duplicate"
        return "recorded"

    async def load(self, incident_id: str, runbook_id: str, step_ids: Sequence[str]) -> Run | None:
        step_keys = [self._keys.runbook_step(incident_id, runbook_id, s) for s in step_ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._keys.runbook_run(incident_id, runbook_id))
            if step_keys:
                pipe.mget(step_keys)
            results = await pipe.execute()
        if results[0] is None:
            return None
        values = results[1] if step_keys else []
        marks = {
            step_id: StepMark.model_validate_json(raw)
            for step_id, raw in zip(step_ids, values, strict=True)
            if raw is not None
        }
        return Run(incident_id, runbook_id, RunStart.model_validate_json(results[0]), marks)

    async def started(self, incident_id: str) -> list[str]:
        """Ids of the runbooks with a run in this incident, oldest first."""
        members = await self._redis.zrange(self._keys.runbook_runs(incident_id), 0, -1)
        return [m.decode() if isinstance(m, bytes) else str(m) for m in members]

    async def start(
        self,
        command_id: str,
        incident_id: str,
        runbook_id: str,
        title: str,
        step_count: int,
        actor: Actor,
        at: datetime,
    ) -> bool:
        """Start the incident's run of a runbook; False if it was already started."""
        steps = f"{step_count} step{'s' if step_count != 1 else ''}"
        entry = LogEntry(
            at=at,
            incident_id=incident_id,
            kind=LogKind.RUNBOOK_STARTED,
            actor=actor,
            text=f"Started runbook {title} ({runbook_id}, {steps})",
            data={"runbook": runbook_id, "title": title, "steps": step_count},
        )
        work = UnitOfWork(entry, f"{command_id}:runbook.started")
        work.require_equals(self._keys.current_incident, incident_id)
        absent = work.require_absent(self._keys.runbook_run(incident_id, runbook_id))
        run_start = RunStart(actor=actor, at=at)
        work.set(self._keys.runbook_run(incident_id, runbook_id), run_start.model_dump_json())
        work.zadd(self._keys.runbook_runs(incident_id), at.timestamp(), runbook_id)
        try:
            committed = await self._committer.commit(work)
        except GuardFailed as failed:
            if failed.index == absent:
                return False
            raise RunIncidentClosed from None
        return not committed.duplicate

    async def mark_done(
        self, command_id: str, change: StepChange, actor: Actor, at: datetime, note: str
    ) -> StepMark:
        """Mark a step done. Raises StepAlreadyDone (with the first mark) if it already is."""
        key = self._step_key(change)
        mark = StepMark(actor=actor, at=at, note=note)
        entry = self._entry(change, actor, at, "done", note, {})
        for _ in range(_RETRIES):
            work = UnitOfWork(entry, command_id)
            work.require_equals(self._keys.current_incident, change.incident_id)
            absent = work.require_absent(key)
            work.set(key, mark.model_dump_json())
            try:
                committed = await self._committer.commit(work)
            except GuardFailed as failed:
                if failed.index != absent:
                    raise RunIncidentClosed from None
                existing = await self._mark(key)
                if existing is not None:
                    raise StepAlreadyDone(existing) from None
                continue  # undone in between: try again
            if committed.duplicate:
                return await self._mark(key) or mark
            return mark
        raise StepAlreadyDone(await self._mark(key) or mark)

    async def undo(
        self, command_id: str, change: StepChange, actor: Actor, at: datetime, note: str
    ) -> StepMark:
        """Clear a step's mark; returns the mark it removed. Raises StepNotDone."""
        key = self._step_key(change)
        for _ in range(_RETRIES):
            raw = await self._redis.get(key)
            if raw is None:
                raise StepNotDone
            removed = StepMark.model_validate_json(raw)
            was = {"was_done_by": removed.actor.name, "was_done_at": removed.at.isoformat()}
            work = UnitOfWork(self._entry(change, actor, at, "undo", note, was), command_id)
            work.require_equals(self._keys.current_incident, change.incident_id)
            same = work.require_equals(key, raw.decode() if isinstance(raw, bytes) else raw)
            work.delete(key)
            try:
                await self._committer.commit(work)
            except GuardFailed as failed:
                if failed.index != same:
                    raise RunIncidentClosed from None
                continue  # changed in between: look again
            return removed
        raise StepNotDone

    def _step_key(self, change: StepChange) -> str:
        return self._keys.runbook_step(change.incident_id, change.runbook_id, change.step_id)

    async def _mark(self, key: str) -> StepMark | None:
        raw = await self._redis.get(key)
        return StepMark.model_validate_json(raw) if raw is not None else None

    def _entry(
        self,
        change: StepChange,
        actor: Actor,
        at: datetime,
        action: str,
        note: str,
        extra: dict[str, str],
    ) -> LogEntry:
        verb = "done" if action == "done" else "undone"
        text = f"{change.runbook_id} step {change.number} {verb}: {change.title}"
        return LogEntry(
            at=at,
            incident_id=change.incident_id,
            kind=LogKind.RUNBOOK_STEP,
            actor=actor,
            department=change.department,
            text=text + (f" — {note}" if note else ""),
            data={
                "runbook": change.runbook_id,
                "step": change.number,
                "step_id": change.step_id,
                "action": action,
                "note": note,
                **extra,
            },
        )
