"""`python -m bot runbooks check [path]`, run as CI runs it: a separate process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.services.runbook_library import SHIPPED_DIR

ROOT = SHIPPED_DIR.parent


def check(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "runbooks", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_shipped_runbooks_pass() -> None:
    result = check("runbooks")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "runbooks/ehr-downtime.yaml: ok (12 steps)",
        "runbooks/teams-outage.yaml: ok (12 steps)",
        "runbooks/workstation-boot-loop.yaml: ok (10 steps)",
        "3 files checked: no problems.",
    ]


def test_without_a_path_it_checks_the_runbooks_directory() -> None:
    result = check()
    assert result.returncode == 0
    assert result.stdout.endswith("3 files checked: no problems.\n")


def test_every_problem_names_the_file_and_field_and_the_exit_is_non_zero(tmp_path: Path) -> None:
    (tmp_path / "dup.yaml").write_text(
        "title: T\nsummary: s\nwhen_to_use: w\nowner_role: IC\nsteps:\n"
        "  - {id: a, title: A, detail: d, owner: it}\n"
        "  - {id: a, title: B, detail: d, owner: it, colour: red}\n",
        encoding="utf-8",
    )
    (tmp_path / "yaml.yaml").write_text("title: [\n", encoding="utf-8")
    result = check(str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/dup.yaml: steps[2].colour: unknown key; the keys are id, title, detail, "
        "owner, expected_minutes, warning",
        f"{tmp_path}/yaml.yaml: line 2: not valid YAML (expected the node content, but found "
        "'<stream end>')",
        "2 files checked: 2 problems.",
    ]


def test_one_file_can_be_checked(tmp_path: Path) -> None:
    path = tmp_path / "empty-steps.yaml"
    path.write_text("title: T\nsummary: s\nwhen_to_use: w\nowner_role: IC\nsteps: []\n", "utf-8")
    result = check(str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}: steps: list at least one step",
        "1 file checked: 1 problem.",
    ]


def test_a_missing_path_or_an_empty_directory_fails(tmp_path: Path) -> None:
    missing = check(str(tmp_path / "nope"))
    assert (missing.returncode, missing.stdout) == (
        2,
        f"{tmp_path}/nope: no such file or directory\n",
    )
    empty = check(str(tmp_path))
    assert (empty.returncode, empty.stdout) == (1, f"{tmp_path}: no runbook files (*.yaml) here\n")
