"""What an after-action report holds, section by section (plain values, filled by collect.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.broadcast import Broadcast
from bot.domain.models import Actor, Incident, LogEntry, State

MAX_TIMELINE = 500  # key events listed; the rest are in `log export`
MAX_ACTIVITY_PER_PERSON = 500  # HICS 214 lines per person


@dataclass
class Handoff:
    at: datetime
    by: Actor
    previous: str
    new: str


@dataclass
class Period:
    number: int
    started_at: datetime
    hours: float
    ended_at: datetime | None = None  # the next period's start, or the close; None while open


@dataclass
class DepartmentRecord:
    id: str
    name: str
    first_report: datetime | None = None
    state: State = State.UNKNOWN
    since: datetime | None = None
    note: str = ""
    reported_by: str = ""
    time_in: dict[State, timedelta] = field(default_factory=dict)
    reports: int = 0


@dataclass
class BroadcastRecord:
    id: str
    at: datetime
    sender: Actor
    priority: str
    text: str
    message: Broadcast | None = None  # the stored HICS 213 (sender's role, origin)
    delivered: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    acks: dict[str, tuple[str, timedelta]] = field(default_factory=dict)  # actor id → name, delay
    never_acked: list[str] = field(default_factory=list)
    expected: int = 0

    @property
    def ack_rate(self) -> float | None:
        return len(self.acks) / self.expected if self.expected else None

    def delays(self) -> list[timedelta]:
        return sorted(delay for _, delay in self.acks.values())


@dataclass
class StepRecord:
    number: int
    step_id: str
    title: str
    done_by: str = ""
    done_at: datetime | None = None
    note: str = ""
    undone: int = 0


@dataclass
class RunbookRecord:
    id: str
    title: str
    started_at: datetime
    started_by: str
    step_count: int
    steps: dict[int, StepRecord] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps.values() if step.done_at is not None)

    @property
    def completed_at(self) -> datetime | None:
        if self.step_count == 0 or self.done < self.step_count:
            return None
        return max(s.done_at for s in self.steps.values() if s.done_at is not None)


@dataclass
class RollCallRecord:
    at: datetime
    by: str
    period: int
    asked: list[str]
    outstanding: set[str]
    completed_at: datetime | None = None


@dataclass
class Refusal:
    at: datetime
    who: str
    command: str
    reason: str


@dataclass
class Activity:
    at: datetime
    text: str


@dataclass
class PersonLog:
    """One person's HICS 214: what they did, in order."""

    actor: Actor
    positions: set[str] = field(default_factory=set)
    activities: list[Activity] = field(default_factory=list)
    more: int = 0  # activities past MAX_ACTIVITY_PER_PERSON


@dataclass
class StatusRow:
    department: str
    state: State
    comment: str


@dataclass
class PeriodSnapshot:
    """HICS 251 at the end of an operational period."""

    period: Period
    rows: list[StatusRow]


@dataclass
class Report:
    incident: Incident
    generated_at: datetime
    facility: str
    entries: int = 0
    commanders: list[tuple[datetime, str]] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    timeline: list[LogEntry] = field(default_factory=list)
    timeline_more: int = 0
    departments: list[DepartmentRecord] = field(default_factory=list)
    never_reported: list[str] = field(default_factory=list)
    broadcasts: list[BroadcastRecord] = field(default_factory=list)
    runbooks: list[RunbookRecord] = field(default_factory=list)
    rollcalls: list[RollCallRecord] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    people: list[PersonLog] = field(default_factory=list)
    snapshots: list[PeriodSnapshot] = field(default_factory=list)

    @property
    def ended_at(self) -> datetime:
        return self.incident.closed_at or self.generated_at

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.incident.opened_at
