"""A runbook as a checklist Reply: numbered steps with ticks, who did each and when, and one
Done or Undo action per step."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.models import Incident
from bot.domain.reply import Action, Reply, ReplyField
from bot.domain.runbook import Runbook, Step
from bot.domain.runbook_run import Run, StepMark
from bot.domain.timefmt import format_time

START_INCIDENT = "incident start <title>"
INDENT = "      "
# The checklist is one message that is edited in place, so it must stay one message on every
# platform (Slack's is the smallest): every step is always listed, and the details of open steps
# are added in order while they fit. The rest are one command away (`runbook <name> <step>`).
DETAIL_BUDGET_CHARS = 6000
MAX_NOTE_SHOWN = 200


def done_count(runbook: Runbook, found: Run) -> int:
    return sum(1 for step in runbook.steps if step.id in found.marks)


def checklist(
    runbook_id: str,
    runbook: Runbook,
    incident: Incident | None,
    found: Run | None,
    tz: ZoneInfo,
    now: datetime,
) -> Reply:
    """The runbook for the open incident (with actions once its run exists), or read-only."""
    marks = found.marks if found else {}
    heads = {
        step.id: _head(number, step, marks.get(step.id), tz, now)
        for number, step in enumerate(runbook.steps, 1)
    }
    budget = DETAIL_BUDGET_CHARS - sum(map(len, heads.values())) - len(runbook.summary)
    lines = [runbook.summary]
    actions: list[Action] = []
    skipped = 0
    for number, step in enumerate(runbook.steps, 1):
        lines.append(heads[step.id])
        if step.id in marks:
            command = f"runbook {runbook_id} undo {number}"
            actions.append(Action(label=f"Undo {number}", command=command))
            continue
        command = f"runbook {runbook_id} done {number}"
        actions.append(Action(label=f"Done {number}", command=command, style="primary"))
        detail = _detail(step)
        if not skipped and sum(map(len, detail)) <= budget:
            lines += detail
            budget -= sum(map(len, detail))
        else:
            skipped += 1
    more = f" Full text of a step: runbook {runbook_id} <step>." if skipped else ""
    if incident is None:
        return Reply(
            title=f"Runbook: {runbook.title} (read-only)",
            fields=[
                ReplyField(label="Owner", value=runbook.owner_role),
                ReplyField(label="When to use", value=runbook.when_to_use),
            ],
            lines=lines,
            footer="No incident is open, so steps cannot be marked. Start one with: "
            f"{START_INCIDENT}.{more}",
            ephemeral=True,
        )
    total = len(runbook.steps)
    done = sum(1 for step in runbook.steps if step.id in marks)
    fields = [
        ReplyField(label="Progress", value=f"{done}/{total} steps done"),
        ReplyField(label="Incident", value=incident.id),
        ReplyField(label="Owner", value=runbook.owner_role),
    ]
    if found is not None:
        started = format_time(found.started.at, tz, now)
        fields.append(ReplyField(label="Started", value=f"{found.started.actor.name} at {started}"))
    return Reply(
        title=f"Runbook: {runbook.title} — {done}/{total}",
        fields=fields,
        lines=lines,
        actions=actions if found is not None else [],
        footer=f"Mark a step: runbook {runbook_id} done <step> [note] · "
        f"undo: runbook {runbook_id} undo <step>.{more}",
    )


def _head(number: int, step: Step, mark: StepMark | None, tz: ZoneInfo, now: datetime) -> str:
    if mark is None:
        minutes = f", ~{step.expected_minutes} min" if step.expected_minutes else ""
        return f"[ ] {number}. {step.title} ({step.owner}{minutes})"
    note = " ".join(mark.note.split())
    if len(note) > MAX_NOTE_SHOWN:  # the whole note is in the incident log
        note = note[: MAX_NOTE_SHOWN - 1] + "…"
    when = format_time(mark.at, tz, now)
    said = f" — “{note}”" if note else ""
    return f"[x] {number}. {step.title} — done by {mark.actor.name} at {when}{said}"


def _detail(step: Step) -> list[str]:
    lines = [INDENT + step.detail.replace("\n", "\n" + INDENT)]
    if step.warning:
        lines.append(f"{INDENT}⚠ {step.warning}")
    return lines


def one_step(runbook_id: str, runbook: Runbook, number: int, step: Step) -> Reply:
    minutes = f"about {step.expected_minutes} min" if step.expected_minutes else "—"
    lines = [step.detail] + ([f"⚠ {step.warning}"] if step.warning else [])
    return Reply(
        title=f"{runbook.title} — step {number}/{len(runbook.steps)}: {step.title}",
        fields=[
            ReplyField(label="Owner", value=step.owner),
            ReplyField(label="Takes", value=minutes),
        ],
        lines=lines,
        footer=f"Mark it: runbook {runbook_id} done {number} [note]",
        ephemeral=True,
    )
