"""`python -m bot export` / `report` as IT runs them at a terminal, while a bot holds the
embedded Redis; and the console's `log export`, which prints where the file went."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.console_process import (
    REPO,
    alive,
    console_env,
    redis_pid,
    run_console,
    start_console,
    stop_leftovers,
    wait_for,
)

SCRIPT = """\
incident start "Teams outage" sev 2
status pharmacy down =SUM(A1) cabinets
status lab partial phoning criticals
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "var"
    yield directory
    stop_leftovers(directory)


def lifeline(data_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        cwd=REPO,
        env=console_env(data_dir),
        timeout=60,
        check=False,
    )


def test_console_log_export_prints_the_path_under_the_data_dir(data_dir: Path) -> None:
    done = run_console(data_dir, SCRIPT + "log export csv lab\n", "--as", "it1", "--role", "it")
    assert done.returncode == 0, done.stderr
    saved = re.search(r"Saved to (\S+)", done.stdout)
    assert saved is not None, done.stdout
    path = Path(saved[1])
    assert path.parent == (data_dir / "exports").resolve()
    assert "Exported 1 entry of the incident log as CSV, filtered by: lab." in done.stdout
    [row] = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"), newline="")))
    assert (row["department"], row["text"]) == ("lab", "phoning criticals")


def test_export_and_report_from_the_command_line_while_a_bot_runs(data_dir: Path) -> None:
    first = run_console(data_dir, SCRIPT, "--as", "dr.lee")
    opened = re.search(r"Opened (INC-\d{8}-1):", first.stdout)
    assert first.returncode == 0 and opened is not None, first.stdout
    incident = opened[1]  # today's date, in the facility's zone
    bot = start_console(data_dir, "--as", "dr.lee")
    try:
        wait_for(lambda: (pid := redis_pid(data_dir)) is not None and alive(pid))
        server = redis_pid(data_dir)
        out = data_dir.parent / "log.csv"

        exported = lifeline(data_dir, "export", "--incident", incident.lower(), "-o", str(out))
        stdout = lifeline(data_dir, "export", "--format", "jsonl", "--since", "1h", "-o", "-")
        report = lifeline(data_dir, "report", "--format", "md", "-o", "-")
        unknown = lifeline(data_dir, "report", "INC-1999")
        bad_since = lifeline(data_dir, "export", "--since", "yesterday")

        assert exported.returncode == 0, exported.stderr
        rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"), newline="")))
        assert [(r["kind"], r["text"]) for r in rows] == [
            ("incident.opened", "Teams outage"),
            ("checkin", "'=SUM(A1) cabinets"),
            ("checkin", "phoning criticals"),
        ]
        assert exported.stderr.decode().strip() == f"lifeline: exported 3 log entries to {out}"
        assert stdout.returncode == 0, stdout.stderr
        lines = stdout.stdout.decode().splitlines()
        assert len(lines) == 4 and '"kind": "export"' in lines[-1]  # the first export, logged
        assert report.returncode == 0, report.stderr
        assert report.stdout.decode().startswith(
            f"# After-action report \\(draft\\) — {incident} Teams outage"
        )
        assert (unknown.returncode, unknown.stderr.decode()) == (
            2, "lifeline report: there is no incident INC-1999\n",
        )  # fmt: skip
        assert bad_since.returncode == 2
        assert bad_since.stderr.decode().startswith("lifeline export: 'yesterday': “yesterday”")
        assert server is not None and alive(server)  # the bot's Redis outlived the exports
    finally:
        bot.communicate(timeout=30)  # closes its stdin: the console leaves, and its Redis
