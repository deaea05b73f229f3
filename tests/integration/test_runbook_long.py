"""A 120-step runbook stays whole: every step and button, in one Slack message within its limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.transports.slack.blocks import render, render_one
from tests.conftest import Bot, BuildLifeline

STEPS = 120


def write_long_runbook(directory: Path) -> None:
    detail = "Reboot on a wired connection, then check the login screen. " * 4
    steps = "".join(
        f"  - id: step-{n}\n"
        f"    title: Restore workstation group {n} in the east wing\n"
        f"    owner: it\n"
        f"    expected_minutes: 15\n"
        f"    detail: >-\n      {detail}\n"
        f"    warning: Never post recovery keys in a channel.\n"
        for n in range(1, STEPS + 1)
    )
    (directory / "long.yaml").write_text(
        "title: Long recovery\nsummary: Every workstation, one group at a time.\n"
        "when_to_use: Drills.\nowner_role: IT Unit Leader\nsteps:\n" + steps,
        encoding="utf-8",
    )


@pytest.fixture
async def long_bot(build_bot_lifeline: BuildLifeline, tmp_path: Path) -> Bot:
    write_long_runbook(tmp_path)
    bot = Bot(await build_bot_lifeline(runbooks_dir=tmp_path))
    opened = await bot.send('incident start "Workstation recovery" sev 3 drill', user="ic")
    assert opened.outcome == "recorded"
    return bot


async def test_every_step_is_listed_with_one_action_each(long_bot: Bot) -> None:
    for n in (1, 2, 60):
        await long_bot.send(f"runbook long done {n} {'group checked by two techs; ' * 20}")
    reply = await long_bot.send("runbook long")
    heads = [line for line in reply.lines if line.startswith(("[ ] ", "[x] "))]
    assert len(heads) == STEPS
    assert [line.split(".")[0][4:] for line in heads] == [str(n) for n in range(1, STEPS + 1)]
    commands = [action.command for action in reply.actions]
    assert commands[:3] == ["runbook long undo 1", "runbook long undo 2", "runbook long done 3"]
    assert commands[59] == "runbook long undo 60"
    assert len(commands) == STEPS
    assert reply.footer.endswith("Full text of a step: runbook long <step>.")


async def test_it_renders_as_one_slack_message_within_slacks_limits(long_bot: Bot) -> None:
    await long_bot.send("runbook long done 5 " + "x" * 1900)
    reply = await long_bot.send("runbook long done 6")
    messages = render(reply)
    assert len(messages) == 1
    message = render_one(reply)
    assert message == messages[0]
    assert len(message.blocks) <= 50
    buttons: list[str] = []
    text = ""
    for raw in message.blocks:
        block = Block.parse(raw)
        assert block is not None
        assert block.to_dict() == raw  # slack_sdk validates every limit on the way
        if raw["type"] == "section" and "text" in raw:
            assert len(raw["text"]["text"]) <= 3000
            text += raw["text"]["text"] + "\n"
        if raw["type"] == "actions":
            assert len(raw["elements"]) <= 25
            buttons += [element["value"] for element in raw["elements"]]
    assert buttons == [action.command for action in reply.actions]
    for n in range(1, STEPS + 1):
        assert f"] {n}. Restore workstation group {n} in the east wing" in text
    assert len(message.text) <= 3000
