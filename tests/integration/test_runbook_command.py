"""`runbook` through the router against a real Redis: list, post, done, undo, re-post, errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.log_query import LogQuery
from bot.domain.models import LogEntry
from bot.domain.reply import Action, Reply
from tests.conftest import Bot, BuildLifeline, Clock

INC = "INC-20261122-1"
TEAMS = "Teams / Microsoft 365 outage — fallback communications"
ADMIN = frozenset({"admin"})


async def open_incident(bot: Bot) -> None:
    reply = await bot.send('incident start "Teams outage" sev 2', user="ic")
    assert reply.outcome == "recorded"


async def runbook_log(bot: Bot) -> list[LogEntry]:
    query = LogQuery(kinds=["runbook.started", "runbook.step"], limit=100)
    return await bot.store.query_log(query)


def step_line(reply: Reply, number: int) -> str:
    return next(line for line in reply.lines if line[4:].startswith(f"{number}. "))


def field(reply: Reply, label: str) -> str:
    return next(item.value for item in reply.fields if item.label == label)


async def test_runbook_lists_every_runbook_with_its_title(bot: Bot) -> None:
    reply = await bot.send("runbook")
    assert reply.title == "Runbooks"
    assert reply.lines == [
        "ehr-downtime — EHR downtime (12 steps)",
        f"teams-outage — {TEAMS} (12 steps)",
        "workstation-boot-loop — Workstation boot loop recovery (CrowdStrike-style) (10 steps)",
    ]
    assert [action.command for action in reply.actions] == [
        "runbook ehr-downtime",
        "runbook teams-outage",
        "runbook workstation-boot-loop",
    ]


async def test_without_an_incident_the_runbook_is_read_only(bot: Bot) -> None:
    reply = await bot.send("runbook ehr")
    assert reply.title == "Runbook: EHR downtime (read-only)"
    assert reply.actions == []
    assert reply.footer == (
        "No incident is open, so steps cannot be marked. Start one with: incident start <title>."
    )
    assert step_line(reply, 1) == "[ ] 1. Declare the EHR access mode (Incident Commander, ~10 min)"
    assert await runbook_log(bot) == []
    assert await bot.store.redis.keys("*runbook*") == []


async def test_posting_starts_one_run_and_posting_again_shows_the_same_run(
    bot: Bot, clock: Clock
) -> None:
    await open_incident(bot)
    first = await bot.send("runbook teams", user="bob")
    assert first.outcome == "recorded"
    assert first.lines[0] == f"Started this runbook for {INC}."
    assert first.title == f"Runbook: {TEAMS} — 0/12"
    assert field(first, "Started") == "bob at 10:00"
    assert len(first.actions) == 12
    assert first.actions[0] == Action(
        label="Done 1", command="runbook teams-outage done 1", style="primary"
    )
    await bot.send("runbook teams done 1", user="bob")
    clock.now += timedelta(minutes=30)
    again = await bot.send("runbook teams-outage", user="carol")
    assert again.outcome == "ok"
    assert again.lines[0] != f"Started this runbook for {INC}."
    assert field(again, "Started") == "bob at 10:00"
    assert field(again, "Progress") == "1/12 steps done"
    started = [e for e in await runbook_log(bot) if e.kind.value == "runbook.started"]
    assert [(e.actor.id, e.text) for e in started] == [
        ("bob", f"Started runbook {TEAMS} (teams-outage, 12 steps)")
    ]


async def test_done_records_who_when_and_the_note_and_ticks_the_step(
    bot: Bot, clock: Clock
) -> None:
    await open_incident(bot)
    await bot.send("runbook teams", user="bob")
    clock.now += timedelta(minutes=7)
    reply = await bot.send("runbook teams done 1 cloud service down, PCs fine", user="bob")
    assert reply.outcome == "recorded"
    assert reply.edit_source is True
    assert reply.lines[0] == "Step 1 done by bob at 10:07: Decide which failure it is"
    assert step_line(reply, 1) == (
        "[x] 1. Decide which failure it is — done by bob at 10:07 — “cloud service down, PCs fine”"
    )
    assert reply.title == f"Runbook: {TEAMS} — 1/12"
    assert reply.actions[0] == Action(label="Undo 1", command="runbook teams-outage undo 1")
    assert reply.actions[1].command == "runbook teams-outage done 2"
    [step, _started] = await runbook_log(bot)
    assert step.kind.value == "runbook.step"
    assert step.incident_id == INC
    assert (step.actor.id, step.at) == ("bob", clock.now)
    assert step.text == (
        "teams-outage step 1 done: Decide which failure it is — cloud service down, PCs fine"
    )
    assert step.data == {
        "runbook": "teams-outage",
        "step": 1,
        "step_id": "which-failure",
        "action": "done",
        "note": "cloud service down, PCs fine",
    }


async def test_progress_counts_done_steps_in_any_order(bot: Bot) -> None:
    await open_incident(bot)
    for step in ("3", "#1", "step 7", "roll-call"):
        assert (await bot.send(f"runbook teams done {step}")).outcome == "recorded"
    reply = await bot.send("runbook teams")
    assert field(reply, "Progress") == "4/12 steps done"
    ticked = [line[:6] for line in reply.lines if line.startswith("[x]")]
    assert ticked == ["[x] 1.", "[x] 3.", "[x] 5.", "[x] 7."]


async def test_done_without_posting_first_starts_the_run(bot: Bot) -> None:
    await open_incident(bot)
    reply = await bot.send("runbook boot done 1 vendor advisory confirmed", user="it-lead")
    assert reply.outcome == "recorded"
    kinds = [entry.kind.value for entry in await runbook_log(bot)]
    assert kinds == ["runbook.step", "runbook.started"]


async def test_undo_reopens_a_step_and_logs_who_undid_it(bot: Bot, clock: Clock) -> None:
    await open_incident(bot)
    await bot.send("runbook teams done 2", user="bob")
    clock.now += timedelta(minutes=10)
    reply = await bot.send("runbook teams undo 2 wrong runbook", user="carol")
    assert reply.outcome == "recorded"
    assert reply.edit_source is True
    assert reply.lines[0] == "Step 2 is open again (carol undid it; it was done by bob at 10:00)."
    assert step_line(reply, 2) == (
        "[ ] 2. Activate incident command and open the command center (Incident Commander, ~15 min)"
    )
    assert field(reply, "Progress") == "0/12 steps done"
    undo = (await runbook_log(bot))[0]
    assert undo.actor.id == "carol"
    assert undo.text == (
        "teams-outage step 2 undone: Activate incident command and open the command center "
        "— wrong runbook"
    )
    assert undo.data["action"] == "undo"
    assert undo.data["was_done_by"] == "bob"
    redone = await bot.send("runbook teams done 2", user="dave")
    assert step_line(redone, 2).startswith("[x] 2. Activate incident command and open the command")
    assert "done by dave at 10:10" in step_line(redone, 2)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("runbook ehr-dontime", ["There is no runbook “ehr-dontime”. Did you mean ehr-downtime?"]),
        ("runbook teams done 13",
         [f"{TEAMS} has no step 13; its steps are numbered 1 to 12."]),
        ("runbook teams done 0", [f"{TEAMS} has no step 0; its steps are numbered 1 to 12."]),
        ("runbook teams done first",
         [f"“first” is not a step of {TEAMS}; give a number from 1 to 12."]),
        ("runbook teams done",
         ["Say which step, by number from 1 to 12: runbook teams-outage done <step>.",
          "Usage: runbook <name> done <step> [note]"]),
        ("runbook teams undo",
         ["Say which step, by number from 1 to 12: runbook teams-outage undo <step>.",
          "Usage: runbook <name> undo <step>"]),
        ("runbook teams undo 3",
         [f"Step 3 of {TEAMS} is not marked done, so there is nothing to undo."]),
        ("runbook teams finish 3",
         ["“finish” is not a runbook action. Use done <step> or undo <step>.",
          "Usage: runbook <name> done <step> [note]"]),
        ("runbook teams done 3 " + "x" * 2001,
         ["That note is 2,001 characters; the limit is 2,000. Shorten it and send it again."]),
    ],
)  # fmt: skip
async def test_bad_input_gets_an_exact_answer_and_changes_nothing(
    bot: Bot, text: str, lines: list[str]
) -> None:
    await open_incident(bot)
    reply = await bot.send(text)
    assert (reply.outcome, reply.ephemeral) == ("error", True)
    assert reply.lines == lines
    assert [e for e in await runbook_log(bot) if e.kind.value == "runbook.step"] == []


async def test_a_step_cannot_be_marked_without_an_incident(bot: Bot) -> None:
    reply = await bot.send("runbook ehr done 1")
    assert reply.outcome == "error"
    assert reply.lines == [
        "No incident is open, so steps of EHR downtime cannot be marked. "
        "Start one with: incident start <title>"
    ]
    assert await runbook_log(bot) == []


async def test_two_people_ticking_the_same_step_at_once_make_one_change(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("runbook ehr")
    replies = await asyncio.gather(
        bot.send("runbook ehr done 4", user="rx-lead"),
        bot.send("runbook ehr done 4 cabinets on override", user="rx-night"),
    )
    assert sorted(reply.outcome for reply in replies) == ["ok", "recorded"]
    winner = next(reply for reply in replies if reply.outcome == "recorded")
    loser = next(reply for reply in replies if reply.outcome == "ok")
    first = winner.lines[0].split(" by ")[1].split(" at ")[0]
    assert loser.lines[0] == f"Step 4 was already done by {first} at 10:00; nothing changed."
    assert loser.edit_source is True  # the stale checklist the loser pressed is refreshed
    assert step_line(loser, 4) == step_line(winner, 4)
    steps = [e for e in await runbook_log(bot) if e.kind.value == "runbook.step"]
    assert [e.actor.id for e in steps] == [first]


async def test_many_simultaneous_ticks_and_undos_settle_to_one_change_each(bot: Bot) -> None:
    await open_incident(bot)
    ticks = await asyncio.gather(*(bot.send("runbook ehr done 2", user=f"rn{n}") for n in range(6)))
    assert sorted(reply.outcome for reply in ticks) == ["ok"] * 5 + ["recorded"]
    undos = await asyncio.gather(*(bot.send("runbook ehr undo 2", user=f"rn{n}") for n in range(4)))
    assert sorted(reply.outcome for reply in undos) == ["error"] * 3 + ["recorded"]
    steps = [e.data["action"] for e in await runbook_log(bot) if e.kind.value == "runbook.step"]
    assert steps == ["undo", "done"]


async def test_a_retried_delivery_records_the_step_once(bot: Bot) -> None:
    await open_incident(bot)
    first = await bot.send("runbook ehr done 2", command_id="slack-ev-1")
    again = await bot.send("runbook ehr done 2", command_id="slack-ev-1")
    assert first.outcome == again.outcome == "recorded"
    kinds = [entry.kind.value for entry in await runbook_log(bot)]
    assert kinds == ["runbook.step", "runbook.started"]


async def test_a_department_step_is_found_in_that_departments_log(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("runbook ehr done 4 cabinets on override", user="rx-lead")
    [entry] = await bot.store.query_log(LogQuery(departments=["pharmacy"]))
    assert entry.text == (
        "ehr-downtime step 4 done: Put dispensing cabinets on override and take paper orders "
        "— cabinets on override"
    )
    reply = await bot.send("log pharmacy runbook", roles=frozenset({"it"}))
    assert reply.table is not None
    assert [row.cells[1] for row in reply.table.rows] == ["runbook.step"]


async def test_each_incident_gets_its_own_run(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("runbook teams done 1")
    await bot.send("incident close", user="ic")
    await bot.send("incident start Second outage", user="ic")
    reply = await bot.send("runbook teams")
    assert reply.lines[0] == "Started this runbook for INC-20261122-2."
    assert field(reply, "Progress") == "0/12 steps done"
    assert await bot.store.runbooks.started(INC) == ["teams-outage"]


async def test_the_list_shows_progress_in_the_open_incident(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("runbook teams done 1")
    await bot.send("runbook teams done 2")
    reply = await bot.send("runbook")
    assert reply.lines[1] == f"teams-outage — {TEAMS} (12 steps) — 2/12 done"
    assert reply.lines[0] == "ehr-downtime — EHR downtime (12 steps)"


async def test_one_step_is_shown_in_full(bot: Bot) -> None:
    reply = await bot.send("runbook boot 7")
    assert reply.title == (
        "Workstation boot loop recovery (CrowdStrike-style) — step 7/10: "
        "Manual fix: recovery environment, delete the bad file, reboot"
    )
    assert "del C:\\Windows\\System32\\drivers\\CrowdStrike\\C-00000291*.sys" in reply.lines[0]
    assert reply.lines[1].startswith("⚠ Delete only the files matching C-00000291*.sys.")


async def test_reload_is_for_admins_and_a_refusal_is_logged(bot: Bot) -> None:
    refused = await bot.send("runbook reload", user="nurse")
    assert refused.outcome == "denied"
    assert refused.lines == [
        "Only an admin can reload the runbooks. They are re-read on their own when a file changes."
    ]
    [denied] = await bot.store.query_log(LogQuery(kinds=["denied"]))
    assert (denied.actor.id, denied.data["command"]) == ("nurse", "runbook")
    reply = await bot.send("runbook reload", user="admin1")
    assert reply.lines == ["Reloaded the runbooks: 3 available, 0 unavailable."]
    granted = await bot.send("runbook reload", user="x", roles=ADMIN)
    assert granted.outcome == "ok"


async def test_a_broken_file_is_listed_as_unavailable_and_the_bot_keeps_working(
    build_bot_lifeline: BuildLifeline, tmp_path: Path
) -> None:
    (tmp_path / "drill.yaml").write_text(
        "title: Drill\nsummary: s\nwhen_to_use: w\nowner_role: IC\nsteps:\n"
        "  - {id: a, title: Call the lab, detail: Phone 4410., owner: lab}\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yaml").write_text("title: Broken\nsteps: [\n", encoding="utf-8")
    bot = Bot(await build_bot_lifeline(runbooks_dir=tmp_path))
    reply = await bot.send("runbook")
    assert reply.lines == [
        "drill — Drill (1 step)",
        "Unavailable (IT: fix the file; it is re-read on the next command):",
        "broken.yaml — line 3: not valid YAML (expected the node content, but found "
        "'<stream end>')",
    ]
    used = await bot.send("runbook broken")
    assert used.lines[0].startswith(
        "The runbook “broken” cannot be used: broken.yaml has a problem"
    )
    assert (await bot.send("runbook drill")).title == "Runbook: Drill (read-only)"


async def test_the_console_shows_a_numbered_checklist_with_ticks(bot: Bot) -> None:
    await open_incident(bot)
    await bot.send("runbook boot done 1", user="bob")
    text = await bot.text("runbook boot")
    lines = text.splitlines()
    assert lines[0] == "Runbook: Workstation boot loop recovery (CrowdStrike-style) — 1/10"
    assert "[x] 1. Confirm the cause before assuming ransomware — done by bob at 10:00" in lines
    assert "[ ] 2. Tell staff not to power on or log in (Public Information Officer, ~10 min)" in (
        lines
    )
    assert lines[-2] == (
        "Actions: runbook workstation-boot-loop undo 1 | runbook workstation-boot-loop done 2–10"
    )
