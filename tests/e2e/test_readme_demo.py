from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.e2e.console_process import REPO, console_env

MARKER = "<!-- demo-transcript:"
PROMPT = "lifeline> "


def normalize(text: str) -> str:
    text = re.sub(r"INC-\d{8}-\d+", "INC-YYYYMMDD-N", text)
    return re.sub(r"\b\d\d:\d\d\b", "HH:MM", text)


def readme_transcript() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    after = readme.split(MARKER, 1)[1]
    return after.split("```text\n", 1)[1].split("```", 1)[0]


def readme_demo_command() -> list[str]:
    """The shell command the README shows above the transcript, as words."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    before = readme.split(MARKER, 1)[0]
    return shlex.split(before.rsplit("```sh\n", 1)[1].split("```", 1)[0])


def test_the_readme_demo_command_prints_the_readme_transcript() -> None:
    python, *args, redirect, script = readme_demo_command()
    assert (python, redirect) == (".venv/bin/python", "<")
    assert args[:3] == ["-m", "bot", "console"]
    lines = (REPO / script).read_text(encoding="utf-8").splitlines()
    transcript = readme_transcript()
    shown = [line[len(PROMPT) :] for line in transcript.splitlines() if line.startswith(PROMPT)]
    assert [line for line in lines if not line.startswith("#")] == shown
    data_dir = Path(tempfile.mkdtemp(prefix="ll-demo-", dir="/tmp"))
    try:
        with (REPO / script).open(encoding="utf-8") as stdin:
            result = subprocess.run(
                [sys.executable, *args], stdin=stdin, capture_output=True, text=True,
                cwd=REPO, env=console_env(data_dir), timeout=30, check=False,
            )  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert normalize(result.stdout).rstrip("\n") == normalize(transcript).rstrip("\n")
