"""`runbook`: list runbooks, post one as the open incident's checklist, mark steps done or undo."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import (
    Denied,
    RunIncidentClosed,
    Spooled,
    StepAlreadyDone,
    StepNotDone,
    StoreUnavailable,
    UserError,
)
from bot.domain.models import Incident
from bot.domain.parsing import check_note, find_department
from bot.domain.permissions import roles_of
from bot.domain.reply import Action, Reply
from bot.domain.runbook import Runbook, Step
from bot.domain.runbook_run import Run, StepChange
from bot.domain.timefmt import format_time
from bot.views.runbook_checklist import START_INCIDENT, checklist, done_count, one_step
from bot.views.spooled import spooled_reply

DONE_WORDS = frozenset({"done", "check", "tick", "complete", "completed"})
UNDO_WORDS = frozenset({"undo", "uncheck", "untick", "reopen"})
USAGE_DONE = "runbook <name> done <step> [note]"
USAGE_UNDO = "runbook <name> undo <step>"


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    if len(words) == 1:
        return await _list(ctx)
    if words.lower(1) == "reload" and len(words) == 2:
        return _reload(command, ctx)
    runbook_id, runbook = ctx.runbooks.find(words.tokens[1])
    if len(words) == 2:
        return await _post(command, runbook_id, runbook, ctx)
    action = words.lower(2)
    if action in DONE_WORDS or action in UNDO_WORDS:
        number, step, next_index = _step(words, 3, runbook_id, runbook, action in DONE_WORDS)
        note = ctx.screen(command, check_note(words.rest(next_index)), "note")
        return await _mark(command, runbook_id, runbook, number, step, note, action, ctx)
    if len(words) == 3 and _find_step(words.tokens[2], runbook) is not None:
        number, step, _ = _step(words, 2, runbook_id, runbook, True)
        return one_step(runbook_id, runbook, number, step)
    raise UserError(
        f"“{words.tokens[2]}” is not a runbook action. Use done <step> or undo <step>.",
        usage=USAGE_DONE,
    )


async def _list(ctx: Context) -> Reply:
    files = ctx.runbooks.files()
    incident = await ctx.store.open_incident()
    lines: list[str] = []
    actions: list[Action] = []
    for file in files:
        if file.runbook is None:
            continue
        steps = file.runbook.steps
        progress = ""
        if incident is not None:
            found = await ctx.store.runbooks.load(incident.id, file.id, [s.id for s in steps])
            if found is not None:
                progress = f" — {done_count(file.runbook, found)}/{len(steps)} done"
        lines.append(f"{file.id} — {file.runbook.title} ({_steps(len(steps))}){progress}")
        actions.append(Action(label=f"Post {file.id}"[:75], command=f"runbook {file.id}"))
    if not lines:
        lines.append(f"No runbooks are available in {ctx.runbooks.directory}.")
    broken = [file for file in files if file.runbook is None]
    if broken:
        lines.append("Unavailable (IT: fix the file; it is re-read on the next command):")
        lines += [f"{file.path.name} — {file.reason}" for file in broken]
    return Reply(
        title="Runbooks",
        lines=lines,
        actions=actions,
        footer="Post one as a checklist with: runbook <name> (a short name works: runbook ehr).",
        ephemeral=True,
    )


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"


def _reload(command: Command, ctx: Context) -> Reply:
    if "admin" not in roles_of(command, ctx.facility, None):
        raise Denied(
            "Only an admin can reload the runbooks. They are re-read on their own when a file "
            "changes."
        )
    ctx.runbooks.reload()
    available = len(ctx.runbooks.available())
    broken = ctx.runbooks.unavailable()
    lines = [f"Reloaded the runbooks: {available} available, {len(broken)} unavailable."]
    lines += [f"{file.path.name} — {file.reason}" for file in broken]
    return Reply(lines=lines, ephemeral=True)


async def _post(command: Command, runbook_id: str, runbook: Runbook, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    if incident is None:
        return checklist(runbook_id, runbook, None, None, ctx.facility.tz, ctx.now())
    try:
        started = await ctx.store.runbooks.start(
            command.id,
            incident.id,
            runbook_id,
            runbook.title,
            len(runbook.steps),
            command.actor,
            ctx.now(),
        )
    except RunIncidentClosed:
        raise UserError(f"{incident.id} was closed in the meantime; nothing was started.") from None
    found = await _load(ctx, incident, runbook_id, runbook)
    reply = checklist(runbook_id, runbook, incident, found, ctx.facility.tz, ctx.now())
    if started:
        reply.lines.insert(0, f"Started this runbook for {incident.id}.")
        reply.outcome = "recorded"
    return reply


async def _mark(
    command: Command,
    runbook_id: str,
    runbook: Runbook,
    number: int,
    step: Step,
    note: str,
    action: str,
    ctx: Context,
) -> Reply:
    """Mark or undo a step; while the database is unreachable (or earlier writes still wait in
    the spool), keep the mark in the spool for the incident open when it is back."""
    done = action in DONE_WORDS
    try:
        if not ctx.store.spool_pending:
            if done:
                return await _done(command, runbook_id, runbook, number, step, note, ctx)
            return await _undo(command, runbook_id, runbook, number, step, note, ctx)
    except StoreUnavailable:
        pass
    change = _change("", runbook_id, number, step, ctx)
    run = (runbook.title, len(runbook.steps))
    verb = "done" if done else "undo"
    try:
        await ctx.store.runbooks.spool_step(
            command.id, change, run, verb, command.actor, ctx.now(), note
        )
    except Spooled as spooled:
        what = f"step {number} of {runbook.title} {'done' if done else 'reopened'}"
        return spooled_reply(spooled.ref, what, "The step will be marked in the open incident")


async def _done(
    command: Command,
    runbook_id: str,
    runbook: Runbook,
    number: int,
    step: Step,
    note: str,
    ctx: Context,
) -> Reply:
    incident = await _require_incident(runbook, ctx)
    now = ctx.now()
    runs = ctx.store.runbooks
    change = _change(incident.id, runbook_id, number, step, ctx)
    try:
        await runs.start(
            command.id, incident.id, runbook_id, runbook.title, len(runbook.steps),
            command.actor, now,
        )  # fmt: skip
        mark = await runs.mark_done(command.id, change, command.actor, now, note)
    except StepAlreadyDone as already:
        first = already.mark
        when = format_time(first.at, ctx.facility.tz, now)
        headline = (
            f"Step {number} was already done by {first.actor.name} at {when}; nothing changed."
        )
        outcome = "ok"
    except RunIncidentClosed:
        raise UserError(f"{incident.id} was closed in the meantime; nothing was changed.") from None
    else:
        when = format_time(mark.at, ctx.facility.tz, now)
        headline = f"Step {number} done by {mark.actor.name} at {when}: {step.title}"
        outcome = "recorded"
    return await _after_change(incident, runbook_id, runbook, headline, outcome, ctx)


async def _undo(
    command: Command,
    runbook_id: str,
    runbook: Runbook,
    number: int,
    step: Step,
    note: str,
    ctx: Context,
) -> Reply:
    incident = await _require_incident(runbook, ctx)
    now = ctx.now()
    change = _change(incident.id, runbook_id, number, step, ctx)
    try:
        removed = await ctx.store.runbooks.undo(command.id, change, command.actor, now, note)
    except StepNotDone:
        raise UserError(
            f"Step {number} of {runbook.title} is not marked done, so there is nothing to undo."
        ) from None
    except RunIncidentClosed:
        raise UserError(f"{incident.id} was closed in the meantime; nothing was changed.") from None
    when = format_time(removed.at, ctx.facility.tz, now)
    headline = (
        f"Step {number} is open again ({command.actor.name} undid it; "
        f"it was done by {removed.actor.name} at {when})."
    )
    return await _after_change(incident, runbook_id, runbook, headline, "recorded", ctx)


async def _after_change(
    incident: Incident,
    runbook_id: str,
    runbook: Runbook,
    headline: str,
    outcome: str,
    ctx: Context,
) -> Reply:
    found = await _load(ctx, incident, runbook_id, runbook)
    reply = checklist(runbook_id, runbook, incident, found, ctx.facility.tz, ctx.now())
    reply.lines.insert(0, headline)
    reply.outcome = "recorded" if outcome == "recorded" else "ok"
    reply.edit_source = True
    return reply


async def _require_incident(runbook: Runbook, ctx: Context) -> Incident:
    incident = await ctx.store.open_incident()
    if incident is None:
        raise UserError(
            f"No incident is open, so steps of {runbook.title} cannot be marked. "
            f"Start one with: {START_INCIDENT}"
        )
    return incident


async def _load(ctx: Context, incident: Incident, runbook_id: str, runbook: Runbook) -> Run | None:
    return await ctx.store.runbooks.load(incident.id, runbook_id, [s.id for s in runbook.steps])


def _change(incident_id: str, runbook_id: str, number: int, step: Step, ctx: Context) -> StepChange:
    dept = find_department(step.owner, ctx.facility)
    return StepChange(
        incident_id=incident_id,
        runbook_id=runbook_id,
        step_id=step.id,
        number=number,
        title=step.title,
        department=dept.id if dept else None,
    )


def _find_step(word: str, runbook: Runbook) -> tuple[int, Step] | None:
    key = word.lower().lstrip("#")
    for number, step in enumerate(runbook.steps, 1):
        if key in (str(number), step.id):
            return number, step
    return None


def _step(
    words: Words, index: int, runbook_id: str, runbook: Runbook, done: bool
) -> tuple[int, Step, int]:
    """The step named at `index` (`3`, `#3`, `step 3` or a step id), and the index after it."""
    if words.lower(index) == "step" and index + 1 < len(words):
        index += 1
    total = len(runbook.steps)
    if index >= len(words):
        verb = "done" if done else "undo"
        raise UserError(
            f"Say which step, by number from 1 to {total}: runbook {runbook_id} {verb} <step>.",
            usage=USAGE_DONE if done else USAGE_UNDO,
        )
    word = words.tokens[index]
    found = _find_step(word, runbook)
    if found is not None:
        return found[0], found[1], index + 1
    if word.lstrip("#").isdigit():
        raise UserError(
            f"{runbook.title} has no step {word.lstrip('#')}; its steps are numbered 1 to {total}."
        )
    raise UserError(f"“{word}” is not a step of {runbook.title}; give a number from 1 to {total}.")


SPEC = CommandSpec(
    name="runbook",
    aliases=("runbooks",),
    summary="List runbooks, post one as a checklist for the incident, mark steps done.",
    usage=(
        "runbook [name]",
        USAGE_DONE,
        USAGE_UNDO,
        "runbook <name> <step>",
        "runbook reload",
    ),
    examples=(
        "runbook",
        "runbook ehr",
        "runbook ehr done 3 MARs printed for 4 West and 5 East",
        "runbook teams undo 2",
        "runbook boot 5",
    ),
    handler=run,
)
