"""What a roll call says: the ask to one department, and the list of those still to report."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.facility import Department
from bot.domain.models import Incident
from bot.domain.reply import Reply
from bot.views.checkin_buttons import checkin_actions


def ask_reply(dept: Department, incident: Incident, reminder: bool) -> Reply:
    first = "Reminder — " if reminder else ""
    return Reply(
        title=f"{first}Roll call for {incident.id}: {dept.name}, please check in",
        lines=[f"Reply with: status {dept.id} <up|partial|down> [note], or press a button."],
        actions=checkin_actions(dept.id),
    )


def missing_reply(departments: Sequence[Department], incident: Incident, reminder: bool) -> Reply:
    first = "Reminder — roll call" if reminder else "Roll call"
    names = ", ".join(d.name for d in departments)
    return Reply(
        title=f"{first} for {incident.id}, period {incident.period}",
        lines=[
            f"Still to check in: {names}.",
            "Reply with: status <department> <up|partial|down> [note]",
        ],
    )
