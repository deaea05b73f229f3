"""Run `python -m bot console` as a real process, the way a person or a script would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_CHAT_SETTINGS = ("SLACK_", "MATRIX_", "REDIS_URL", "LIFELINE_", "LOG_")


def console_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHAT_SETTINGS)}
    env["LIFELINE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def stop_leftovers(data_dir: Path) -> None:
    """Kill whatever still runs on `data_dir`: a bot a failed test left behind (found by the
    LIFELINE_DATA_DIR in its environment) and its redis-server (which rewrites its title, and
    with it what /proc shows of its environment, to name its socket under the data dir)."""
    marker = f"LIFELINE_DATA_DIR={data_dir}".encode()
    for process in Path("/proc").iterdir():
        if not process.name.isdigit() or int(process.name) == os.getpid():
            continue
        try:
            title = (process / "cmdline").read_bytes()
            environment = (process / "environ").read_bytes().split(b"\0")
        except OSError:  # gone already, or not ours to read
            continue
        if marker in environment or f"{data_dir}/redis/".encode() in title:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(process.name), signal.SIGKILL)


def run_console(
    data_dir: Path, script: str, *args: str, timeout: float = 30, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=console_env(data_dir, **extra),
        timeout=timeout,
        check=False,
    )


def start_console(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """A console that stays up until its stdin closes or it is signalled."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "console", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=console_env(data_dir),
    )


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def redis_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "redis" / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False
