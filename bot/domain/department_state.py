"""What the board shows for a department: its state this period, stale or not, and the counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.domain.models import CheckIn, Incident, State

SUMMARY_ORDER = (State.DOWN, State.PARTIAL, State.UP, State.NA, State.UNKNOWN)


def effective_state(
    checkin: CheckIn | None, incident: Incident | None, now: datetime, stale_after: timedelta
) -> tuple[State, bool]:
    """The state the board shows and whether it is stale. With an incident open, only check-ins
    of its current period count; older ones leave the department `unknown`."""
    if checkin is None:
        return State.UNKNOWN, False
    if incident is not None and (
        checkin.incident_id != incident.id or checkin.period != incident.period
    ):
        return State.UNKNOWN, False
    return checkin.state, now - checkin.at > stale_after


def state_summary(states: Iterable[State], name: Callable[[State], str]) -> str:
    """`Non-functional 2 · Fully functional 9`: how many departments are in each state, worst
    first, states nobody is in left out. `name` says how a state is written."""
    counts = Counter(states)
    return " · ".join(f"{name(state)} {counts[state]}" for state in SUMMARY_ORDER if counts[state])
