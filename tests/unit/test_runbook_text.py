from __future__ import annotations

from bot.domain.reply import Action, Reply
from bot.transports.text import action_commands, render_text


def test_numbered_actions_are_written_as_ranges() -> None:
    actions = [
        Action(label="Undo 1", command="runbook ehr undo 1"),
        *(Action(label=f"Done {n}", command=f"runbook ehr done {n}") for n in (2, 3, 4)),
        Action(label="Undo 5", command="runbook ehr undo 5"),
        Action(label="Done 6", command="runbook ehr done 6"),
        Action(label="Up", command="status lab up"),
    ]
    assert action_commands(actions) == [
        "runbook ehr undo 1",
        "runbook ehr done 2–4",
        "runbook ehr undo 5",
        "runbook ehr done 6",
        "status lab up",
    ]


def test_a_checklist_renders_as_ticks_with_its_actions_on_one_short_line() -> None:
    reply = Reply(
        title="Runbook: Drill — 1/3",
        lines=["[x] 1. First — done by alice at 10:00", "[ ] 2. Second (it)", "[ ] 3. Third (it)"],
        actions=[
            Action(label="Undo 1", command="runbook drill undo 1"),
            Action(label="Done 2", command="runbook drill done 2"),
            Action(label="Done 3", command="runbook drill done 3"),
        ],
    )
    assert render_text(reply).splitlines()[-1] == (
        "Actions: runbook drill undo 1 | runbook drill done 2–3"
    )
