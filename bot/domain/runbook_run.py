"""A runbook's run in an incident: who started it, and which steps are marked done by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Actor, FrozenModel


class StepMark(FrozenModel):
    """A step marked done: by whom, when, with what note."""

    actor: Actor
    at: datetime
    note: str = ""


class RunStart(FrozenModel):
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class Run:
    incident_id: str
    runbook_id: str
    started: RunStart
    marks: dict[str, StepMark]  # step id → mark; steps not done are absent


@dataclass(frozen=True)
class StepChange:
    """The step a `done` or `undo` is about, with what the log entry should say about it."""

    incident_id: str
    runbook_id: str
    step_id: str
    number: int
    title: str
    department: str | None = None
