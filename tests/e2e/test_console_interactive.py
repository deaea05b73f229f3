"""The console as a person uses it: a terminal, a prompt, line editing history, Ctrl-D."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.console_process import REPO, console_env, stop_leftovers


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="ll-tty-", dir="/tmp"))
    yield directory
    stop_leftovers(directory)
    shutil.rmtree(directory, ignore_errors=True)


class Terminal:
    def __init__(self, data_dir: Path) -> None:
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--as", "charge.nurse"],
            stdin=child, stdout=child, stderr=child, cwd=REPO, env=console_env(data_dir),
        )  # fmt: skip
        os.close(child)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {text!r}; screen so far:\n{self.screen}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                self.screen += os.read(self.fd, 4096).decode(errors="replace")
        return self.screen

    def text(self) -> str:
        """The screen as a person reads it: without the terminal's control sequences."""
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.screen).replace("\r\n", "\n")

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def close(self) -> int:
        code = self.process.wait(15)
        os.close(self.fd)
        return code


def test_an_interactive_session_prompts_answers_and_keeps_history(data_dir: Path) -> None:
    term = Terminal(data_dir)
    term.read_until("Lifeline console — you are charge.nurse. Type help, or Ctrl-D to leave.")
    term.read_until("lifeline> ")
    term.type("status icu partial vents on paper charting\r")
    term.read_until("Recorded: Intensive Care is PARTIAL — Partially functional (no incident open)")
    term.type("\x04")  # Ctrl-D
    assert term.close() == 0
    history = (data_dir / "console_history").read_text()
    assert "status icu partial vents on paper charting" in history

    again = Terminal(data_dir)
    again.read_until("lifeline> ")
    again.type("\x1b[A\r")  # arrow up recalls the last command; Enter runs it again
    # The same check-in from the same person moments later is a resend, answered as one.
    again.read_until(
        "Intensive Care is PARTIAL — Partially functional. You sent the same check-in then, "
        "so no second entry was added."
    )
    again.type("\x04")
    assert again.close() == 0


def test_each_answer_prints_on_its_own_lines_before_the_next_prompt(data_dir: Path) -> None:
    term = Terminal(data_dir)
    term.read_until("lifeline> ")
    # Typed ahead in one go: each line waits for the answer before it, Ctrl-D too.
    term.type("status icu partial vents on paper charting\rstatus lab up\r\x04")
    term.read_until("Fully functional (no incident open)\r\n\r\nlifeline> ")
    assert term.close() == 0
    assert term.text() == (
        "Lifeline console — you are charge.nurse. Type help, or Ctrl-D to leave.\n"
        "lifeline> status icu partial vents on paper charting\n"
        "Recorded: Intensive Care is PARTIAL — Partially functional (no incident open)\n"
        "Note: vents on paper charting\n"
        "\n"
        "lifeline> status lab up\n"
        "Recorded: Laboratory is UP — Fully functional (no incident open)\n"
        "\n"
        "lifeline> "
    )
