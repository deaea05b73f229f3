from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from tests.e2e.console_process import REPO, run_console

MARKER = "<!-- demo-transcript:"
PROMPT = "lifeline> "


def normalize(text: str) -> str:
    text = re.sub(r"INC-\d{8}-\d+", "INC-YYYYMMDD-N", text)
    return re.sub(r"\b\d\d:\d\d\b", "HH:MM", text)


def readme_transcript() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    after = readme.split(MARKER, 1)[1]
    return after.split("```text\n", 1)[1].split("```", 1)[0]


def test_the_readme_console_transcript_reproduces() -> None:
    transcript = readme_transcript()
    commands = [line[len(PROMPT) :] for line in transcript.splitlines() if line.startswith(PROMPT)]
    assert len(commands) >= 5
    data_dir = Path(tempfile.mkdtemp(prefix="ll-demo-", dir="/tmp"))
    try:
        result = run_console(
            data_dir, "\n".join(commands) + "\n", "--as", "dr.lee", "--role", "commander"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert normalize(result.stdout).rstrip("\n") == normalize(transcript).rstrip("\n")
