from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.console_process import (
    alive,
    redis_pid,
    run_console,
    start_console,
    stop_leftovers,
    wait_for,
)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Short on purpose: the embedded Redis socket path must fit in 100 characters."""
    directory = Path(tempfile.mkdtemp(prefix="ll-e2e-", dir="/tmp"))
    yield directory
    stop_leftovers(directory)
    shutil.rmtree(directory, ignore_errors=True)


def test_a_piped_script_runs_line_by_line_and_prints_readable_replies(data_dir: Path) -> None:
    result = run_console(
        data_dir,
        "# comments and blank lines are skipped\n\n/status rx down cabinets on override\nstatus\n",
        "--as", "nurse.kim",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "lifeline> /status rx down cabinets on override\n"
        "Recorded: Pharmacy is DOWN — Non-functional (no incident open)\n"
        "Note: cabinets on override\n\n"
        "lifeline> status\n"
        "Status board — General Hospital — no incident open\n"
        "  DEPARTMENT            STATE    NOTE                  BY         WHEN\n"
        "X Pharmacy              DOWN     cabinets on override  nurse.kim  "
    )
    assert "? Laboratory            unknown\n" in out
    assert "Summary: Non-functional 1 · No report 10\n" in out
    assert result.stderr == ""


def test_data_survives_a_restart_and_the_embedded_redis_stops_on_exit(data_dir: Path) -> None:
    first = run_console(
        data_dir, 'incident start "EHR downtime" sev 1\nstatus lab partial phoning\n'
    )
    assert first.returncode == 0, first.stderr
    assert redis_pid(data_dir) is None  # the server was shut down with the bot
    assert not (data_dir / "redis" / "redis.sock").exists()
    second = run_console(data_dir, "incident\nstatus lab\n", "--as", "ic")
    assert "INC-" in second.stdout and "EHR downtime" in second.stdout
    assert "State:    PARTIAL — Partially functional\nNote:     phoning\n" in second.stdout


def test_a_bot_killed_with_sigkill_leaves_a_server_the_next_run_reuses(data_dir: Path) -> None:
    bot = start_console(data_dir)
    assert bot.stdin is not None
    bot.stdin.write("status rx down before the crash\n")
    bot.stdin.flush()
    wait_for(lambda: redis_pid(data_dir) is not None)
    server = redis_pid(data_dir)
    wait_for(lambda: "before the crash" in aof_text(data_dir))
    bot.kill()
    bot.wait(10)
    bot.stdin.close()
    assert bot.stdout is not None and bot.stderr is not None
    bot.stdout.close()
    bot.stderr.close()
    after = run_console(data_dir, "status rx\n")
    assert after.returncode == 0, after.stderr
    assert "Note:     before the crash" in after.stdout
    assert server is not None and not alive(server)  # reused, then shut down by the last bot


def test_a_server_killed_too_leaves_stale_files_that_are_recovered(data_dir: Path) -> None:
    bot = start_console(data_dir)
    assert bot.stdin is not None and bot.stdout is not None and bot.stderr is not None
    bot.stdin.write("status lab down analyser offline\n")
    bot.stdin.flush()
    wait_for(lambda: "analyser offline" in aof_text(data_dir))
    server = redis_pid(data_dir)
    assert server is not None
    bot.kill()
    os.kill(server, signal.SIGKILL)
    bot.wait(10)
    wait_for(lambda: not alive(server))
    for stream in (bot.stdin, bot.stdout, bot.stderr):
        stream.close()
    assert (data_dir / "redis" / "redis.sock").exists()  # stale
    after = run_console(data_dir, "status lab\n")
    assert after.returncode == 0, after.stderr
    assert "Note:     analyser offline" in after.stdout  # appendfsync always: nothing lost


def aof_text(data_dir: Path) -> str:
    """What the embedded server has made durable so far."""
    try:
        return (data_dir / "redis" / "lifeline.aof").read_text(errors="replace")
    except OSError:
        return ""


def test_a_second_bot_on_the_same_data_dir_shares_the_running_server(data_dir: Path) -> None:
    first = start_console(data_dir)
    assert first.stdin is not None and first.stdout is not None and first.stderr is not None
    first.stdin.write("status rx up\n")
    first.stdin.flush()
    wait_for(lambda: redis_pid(data_dir) is not None)
    server = redis_pid(data_dir)
    second = run_console(data_dir, "status rx\n")
    assert "State:    UP — Fully functional" in second.stdout
    assert server is not None and alive(server)  # still in use by the first bot
    first.stdin.close()
    assert first.wait(15) == 0
    first.stdout.close()
    first.stderr.close()
    wait_for(lambda: not alive(server))


def test_sigterm_stops_the_bot_and_its_server_cleanly(data_dir: Path) -> None:
    bot = start_console(data_dir)
    assert bot.stdin is not None and bot.stdout is not None and bot.stderr is not None
    bot.stdin.write("status\n")
    bot.stdin.flush()
    # The echo of a handled command means start-up, signal handlers included, is complete.
    assert bot.stdout.readline() == "lifeline> status\n"
    server = redis_pid(data_dir)
    bot.send_signal(signal.SIGTERM)
    assert bot.wait(15) == 0
    for stream in (bot.stdin, bot.stdout, bot.stderr):
        stream.close()
    assert server is not None
    wait_for(lambda: not alive(server))


def test_a_bad_configuration_stops_start_up_with_one_message(data_dir: Path) -> None:
    config = data_dir / "lifeline.yaml"
    config.write_text("facility: X\ndepartments:\n  - id: pharmacy\n    colour: red\n")
    result = run_console(data_dir, "status\n", LIFELINE_CONFIG=str(config))
    assert result.returncode == 2
    assert result.stderr == (
        f"lifeline: configuration error: {config}: departments.0.colour: unknown key\n"
    )
    assert result.stdout == ""


def test_a_broadcast_reaches_the_console_and_acks_count_once(data_dir: Path) -> None:
    result = run_console(
        data_dir,
        "incident start Teams outage\n"
        "broadcast urgent Do not power on Windows PCs <!here>\n"
        "ack B-1\nack B-1\nbroadcast B-1\n",
        "--as", "dr.lee", "--role", "commander",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Recorded B-1 (Urgent-High); sending it to every broadcast channel" in out
    copy = out.split("-- to console (notifying everyone) --\n", 1)[1].split("\n\n", 1)[0]
    assert copy.splitlines()[0] == "B-1 · URGENT · General Message"
    assert "From:     dr.lee (Incident Commander)" in copy
    assert "Do not power on Windows PCs <!here>" in copy  # plain text on a terminal: inert
    assert "Acknowledged B-1 (1 so far). Thank you." in out
    assert "You already acknowledged B-1 at " in out
    assert "Acknowledged:            1 person" in out
