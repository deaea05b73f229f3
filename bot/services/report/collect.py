"""One pass over an incident's log entries (read through the incident index, page by page),
computing every section of the after-action report as it goes."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, Incident, LogEntry, LogKind, State
from bot.services.report.model import (
    MAX_ACTIVITY_PER_PERSON,
    MAX_TIMELINE,
    Activity,
    BroadcastRecord,
    DepartmentRecord,
    Handoff,
    PeriodSnapshot,
    PersonLog,
    Refusal,
    Report,
    RollCallRecord,
    RunbookRecord,
    StatusRow,
    StepRecord,
)
from bot.services.report.period_tracker import PeriodTracker
from bot.services.report.wording import activity_text, state_comment
from bot.storage.store import Store

_KEY_KINDS = frozenset(
    {
        LogKind.INCIDENT_OPENED, LogKind.INCIDENT_CLOSED, LogKind.INCIDENT_HANDOFF,
        LogKind.INCIDENT_PERIOD, LogKind.BROADCAST, LogKind.RUNBOOK_STARTED, LogKind.ROLLCALL,
    }
)  # fmt: skip


class ReportCollector:
    """Feed it the incident's entries oldest first (`add`), then `finish`."""

    def __init__(self, incident: Incident, facility: FacilityConfig, now: datetime) -> None:
        self.facility = facility
        self.report = Report(incident=incident, generated_at=now, facility=facility.facility)
        self._departments = {d.id: DepartmentRecord(d.id, d.name) for d in facility.departments}
        self._broadcasts: dict[str, BroadcastRecord] = {}
        self._runbooks: dict[str, RunbookRecord] = {}
        self._open_rollcalls: list[RollCallRecord] = []
        self._people: dict[str, PersonLog] = {}
        self._periods = PeriodTracker(incident)

    def add(self, entry: LogEntry) -> None:
        self.report.entries += 1
        self._person(entry)
        kind = entry.kind
        if kind is LogKind.CHECKIN:
            self._checkin(entry)
        elif kind in _KEY_KINDS:
            self._key_event(entry)
        elif kind is LogKind.BROADCAST_ACK:
            self._ack(entry)
        elif kind is LogKind.RUNBOOK_STEP:
            self._step(entry)
        elif kind is LogKind.DENIED:
            self.report.refusals.append(
                Refusal(entry.at, entry.actor.name, entry.text, str(entry.data.get("reason", "")))
            )

    def _timeline(self, entry: LogEntry) -> None:
        if len(self.report.timeline) < MAX_TIMELINE:
            self.report.timeline.append(entry)
        else:
            self.report.timeline_more += 1

    def _person(self, entry: LogEntry) -> None:
        if entry.actor.transport == "system":
            return
        person = self._people.get(entry.actor.id)
        if person is None:
            person = self._people[entry.actor.id] = PersonLog(entry.actor)
        if entry.kind is LogKind.CHECKIN and entry.department in self._departments:
            person.positions.add(self._departments[entry.department].name + " (reporting)")
        if len(person.activities) < MAX_ACTIVITY_PER_PERSON:
            person.activities.append(Activity(entry.at, activity_text(entry, self.facility)))
        else:
            person.more += 1

    def _checkin(self, entry: LogEntry) -> None:
        dept = self._departments.get(entry.department or "")
        if dept is None:
            return
        state = State(str(entry.data.get("state", "unknown")))
        if dept.first_report is None:
            dept.first_report = entry.at
        if dept.since is not None:
            dept.time_in[dept.state] = dept.time_in.get(dept.state, timedelta()) + (
                entry.at - dept.since
            )
        if state is not dept.state:
            self._timeline(entry)
        dept.state, dept.since, dept.note = state, entry.at, entry.text
        dept.reported_by = entry.actor.name
        dept.reports += 1
        self._periods.checkin(dept.id, state, state_comment(entry, self.facility.tz))
        for rollcall in self._open_rollcalls:
            rollcall.outstanding.discard(dept.id)
            if not rollcall.outstanding and rollcall.completed_at is None:
                rollcall.completed_at = entry.at
        self._open_rollcalls = [r for r in self._open_rollcalls if r.completed_at is None]

    def _key_event(self, entry: LogEntry) -> None:
        self._timeline(entry)
        kind, data = entry.kind, entry.data
        if kind is LogKind.INCIDENT_HANDOFF:
            previous = str(data.get("from", {}).get("name", ""))
            new = str(data.get("to", {}).get("name", ""))
            self.report.handoffs.append(Handoff(entry.at, entry.actor, previous, new))
            self.report.commanders.append((entry.at, new))
            self._position(data.get("to", {}), "Incident Commander")
        elif kind is LogKind.INCIDENT_OPENED:
            self.report.commanders.append((entry.at, entry.actor.name))
            self._position(entry.actor.model_dump(), "Incident Commander")
        elif kind is LogKind.INCIDENT_PERIOD:
            self._periods.next_period(entry.at, int(data.get("period", 0)), data.get("hours"))
            self._open_rollcalls = []  # a roll call not completed in its period never was
        elif kind is LogKind.BROADCAST:
            broadcast_id = str(data.get("broadcast", ""))
            self._broadcasts[broadcast_id] = BroadcastRecord(
                broadcast_id, entry.at, entry.actor, str(data.get("priority", "normal")), entry.text
            )
        elif kind is LogKind.RUNBOOK_STARTED:
            runbook_id = str(data.get("runbook", ""))
            self._runbooks.setdefault(
                runbook_id,
                RunbookRecord(
                    runbook_id, str(data.get("title", runbook_id)), entry.at, entry.actor.name,
                    int(data.get("steps", 0)),
                ),
            )  # fmt: skip
        elif kind is LogKind.ROLLCALL:
            asked = [str(d) for d in data.get("missing", [])]
            record = RollCallRecord(
                entry.at, entry.actor.name, int(data.get("period", 0)), asked, set(asked)
            )
            if not asked:
                record.completed_at = entry.at
            else:
                self._open_rollcalls.append(record)
            self.report.rollcalls.append(record)

    def _position(self, actor: object, position: str) -> None:
        if isinstance(actor, dict) and actor.get("id") in self._people:
            self._people[str(actor["id"])].positions.add(position)
        elif isinstance(actor, dict) and actor.get("id"):
            person = PersonLog(Actor.model_validate(actor), {position})
            self._people[str(actor["id"])] = person

    def _ack(self, entry: LogEntry) -> None:
        broadcast = self._broadcasts.get(str(entry.data.get("broadcast", "")))
        if broadcast is not None and entry.actor.id not in broadcast.acks:
            broadcast.acks[entry.actor.id] = (entry.actor.name, entry.at - broadcast.at)

    def _step(self, entry: LogEntry) -> None:
        data = entry.data
        runbook = self._runbooks.get(str(data.get("runbook", "")))
        if runbook is None:
            return
        number = int(data.get("step", 0))
        note = str(data.get("note", ""))
        title = entry.text.split(": ", 1)[-1]
        if note:
            title = title.removesuffix(f" — {note}")
        step = runbook.steps.setdefault(number, StepRecord(number, str(data.get("step_id")), title))
        if data.get("action") == "undo":
            step.done_by, step.done_at, step.note = "", None, ""
            step.undone += 1
        else:
            step.done_by, step.done_at, step.note = entry.actor.name, entry.at, note

    def finish(self) -> Report:
        report = self.report
        end = report.ended_at
        for dept in self._departments.values():
            if dept.since is not None:
                dept.time_in[dept.state] = dept.time_in.get(dept.state, timedelta()) + (
                    end - dept.since
                )
        report.departments = [d for d in self._departments.values() if d.first_report]
        report.never_reported = [d.name for d in self._departments.values() if not d.first_report]
        participants = {
            person.actor.id: person.actor.name
            for person in self._people.values()
            if person.activities
        }
        for broadcast in self._broadcasts.values():
            others = {k: v for k, v in participants.items() if k != broadcast.sender.id}
            broadcast.expected = len(others)
            broadcast.never_acked = sorted(
                name for k, name in others.items() if k not in broadcast.acks
            )
        report.broadcasts = list(self._broadcasts.values())
        report.runbooks = list(self._runbooks.values())
        report.people = sorted(self._people.values(), key=lambda p: p.actor.name.lower())
        report.periods, snapshots = self._periods.finish(end if report.incident.closed_at else None)
        report.snapshots = [
            PeriodSnapshot(period, self._status_rows(states)) for period, states in snapshots
        ]
        return report

    def _status_rows(self, states: dict[str, tuple[State, str]]) -> list[StatusRow]:
        return [
            StatusRow(d.name, *states.get(d.id, (State.UNKNOWN, "")))
            for d in self.facility.departments
        ]


async def collect_report(
    store: Store, facility: FacilityConfig, incident: Incident, now: datetime
) -> Report:
    collector = ReportCollector(incident, facility, now)
    async for page in store.log.stream(LogQuery(incident_id=incident.id)):
        for entry in page:
            collector.add(entry)
    report = collector.finish()
    for broadcast in report.broadcasts:
        broadcast.message = await store.broadcasts.get(broadcast.id)
        broadcast.delivered = len(await store.broadcasts.copies(broadcast.id))
        failures = await store.broadcasts.failures(broadcast.id)
        broadcast.failed = len(failures)
        broadcast.failures = [f"{where} ({reason})" for where, reason in failures.items()]
    return report
