"""The one-tap check-in buttons offered wherever a department is asked for its state."""

from __future__ import annotations

from bot.domain.reply import Action


def checkin_actions(dept_id: str) -> list[Action]:
    return [
        Action(label="Up", command=f"status {dept_id} up", style="primary"),
        Action(label="Partial", command=f"status {dept_id} partial"),
        Action(label="Down", command=f"status {dept_id} down", style="danger"),
    ]
