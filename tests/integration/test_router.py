from __future__ import annotations

import pytest
from structlog.processors import format_exc_info
from structlog.testing import capture_logs

from tests.conftest import Bot


async def test_help_lists_every_command_and_one_command_has_examples(bot: Bot) -> None:
    reply = await bot.send("help")
    assert reply.ephemeral
    assert reply.lines[0] == "help [command] — Usage for every command, or for one."
    assert reply.lines[-1] == "Type help <command> for details and examples."
    one = await bot.send("help checkin")
    assert one.title == "status — The status board, one department, or a department's check-in."
    assert "  status pharmacy down automated cabinets on override" in one.lines


async def test_an_empty_command_shows_help(bot: Bot) -> None:
    assert (await bot.send("   ")).title == "Lifeline commands"


async def test_slash_and_bang_prefixes_and_case_are_forgiven(bot: Bot) -> None:
    assert (await bot.send("/STATUS lab up")).outcome == "recorded"
    assert (await bot.send("!Status lab up")).outcome == "recorded"


async def test_an_unexpected_failure_gives_an_error_ref_not_a_traceback(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> dict[str, object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(bot.store, "latest_checkins", broken)
    with capture_logs() as logs:
        reply = await bot.send("status")
    [line] = reply.lines
    assert line.startswith(
        "Lifeline hit an unexpected problem and could not finish this command (error ref E-"
    )
    assert "secret internals" not in line and "Traceback" not in line
    failure = next(log for log in logs if log["event"] == "command.failed")
    assert line.split("(error ref ")[1].startswith(failure["error_ref"])


async def test_every_command_is_logged_with_actor_transport_outcome_and_duration(bot: Bot) -> None:
    with capture_logs() as logs:
        await bot.send("status lab down", user="alice")
    [record] = [log for log in logs if log["event"] == "command"]
    assert (record["actor"], record["transport"], record["command"], record["outcome"]) == (
        "alice",
        "console",
        "status",
        "recorded",
    )
    assert isinstance(record["duration_ms"], float)


async def test_a_failed_command_logs_its_traceback_but_not_what_the_user_typed(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> object:
        raise RuntimeError("check-in index corrupt")

    monkeypatch.setattr(bot.store, "record_checkin", broken)
    with capture_logs(processors=[format_exc_info]) as logs:  # tracebacks rendered, as in prod
        reply = await bot.send("status lab down my password is hunter2", user="alice")

    assert reply.outcome == "error"
    [failure] = [log for log in logs if log["event"] == "command.failed"]
    assert (failure["actor"], failure["command"]) == ("alice", "status")
    assert "RuntimeError: check-in index corrupt" in failure["exception"]
    [record] = [log for log in logs if log["event"] == "command"]
    assert record["outcome"] == "error"
    assert "hunter2" not in repr(logs)
