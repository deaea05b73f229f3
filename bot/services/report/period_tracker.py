"""Operational periods as the log tells them, and each period's last report per department
(the HICS 251 snapshot at the period's end)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Incident, State
from bot.services.report.model import Period

PeriodStates = dict[str, tuple[State, str]]


class PeriodTracker:
    def __init__(self, incident: Incident) -> None:
        self._current = Period(1, incident.opened_at, _first_hours(incident))
        self._states: PeriodStates = {}
        self._done: list[tuple[Period, PeriodStates]] = []

    def checkin(self, dept_id: str, state: State, comment: str) -> None:
        self._states[dept_id] = (state, comment)

    def next_period(self, at: datetime, number: int, hours: object) -> None:
        self._current.ended_at = at
        self._done.append((self._current, self._states))
        self._current = Period(number or self._current.number + 1, at, float(str(hours or 12)))
        self._states = {}

    def finish(
        self, closed_at: datetime | None
    ) -> tuple[list[Period], list[tuple[Period, PeriodStates]]]:
        self._current.ended_at = closed_at
        done = [*self._done, (self._current, self._states)]
        return [period for period, _ in done], done


def _first_hours(incident: Incident) -> float:
    """Period 1's length: the incident's own when it is still in period 1 (later periods say
    theirs in their log entries)."""
    return incident.period_hours if incident.period == 1 else 12.0
