from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.runbook import schema_text
from bot.services.runbook_library import SHIPPED_DIR, load_file

HEAD = "title: T\nsummary: s\nwhen_to_use: w\nowner_role: Incident Commander\n"
STEP = "  - {id: a, title: A, detail: d, owner: it}\n"
STEP_KEYS = "id, title, detail, owner, expected_minutes, warning"
RUNBOOK_KEYS = "title, summary, when_to_use, owner_role, steps"
EXTRA_STEP = "  - {id: b, title: B, detail: d, owner: it, minutes: 5}\n"
BAD_STEP = "  - {id: Print MARs, title: '', detail: d, owner: it, expected_minutes: 0}\n"


@pytest.mark.parametrize(
    ("name", "text", "problems"),
    [
        ("missing-title", "summary: s\nwhen_to_use: w\nowner_role: IC\nsteps:\n" + STEP,
         ["title: missing; it is required"]),
        ("empty-steps", HEAD + "steps: []\n", ["steps: list at least one step"]),
        ("no-steps-key", HEAD, ["steps: missing; it is required"]),
        ("unknown-key", HEAD + "colour: red\nsteps:\n" + STEP,
         [f"colour: unknown key; the keys are {RUNBOOK_KEYS}"]),
        ("unknown-step-key", HEAD + "steps:\n" + STEP + EXTRA_STEP,
         [f"steps[2].minutes: unknown key; the keys are {STEP_KEYS}"]),
        ("duplicate-ids", HEAD + "steps:\n" + STEP + STEP.replace("a,", "b,") + STEP,
         ["steps: step id “a” is used by steps 1 and 3; step ids must be unique"]),
        ("bad-yaml", "title: T\nsummary: s: x\n",
         ["line 2: not valid YAML (mapping values are not allowed here)"]),
        ("not-a-mapping", "- title\n- steps\n",
         [f"(top level): expected a mapping with the keys {RUNBOOK_KEYS}"]),
        ("empty-file", "",
         [f"(top level): the file is empty; a runbook needs {RUNBOOK_KEYS}"]),
        ("bad-step", HEAD + "steps:\n" + BAD_STEP,
         ["steps[1].id: use lower-case letters, digits and dashes (at most 40), like print-mars",
          "steps[1].title: is empty",
          "steps[1].expected_minutes: input should be greater than or equal to 1"]),
        ("wrong-type", HEAD.replace("title: T", "title: 2024") + "steps:\n" + STEP,
         ["title: input should be a valid string"]),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_is_named_by_field_and_problem(
    tmp_path: Path, name: str, text: str, problems: list[str]
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path)
    assert loaded.runbook is None
    assert list(loaded.problems) == problems


def test_a_file_name_that_is_not_an_id_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "EHR Downtime.yaml"
    path.write_text(HEAD + "steps:\n" + STEP, encoding="utf-8")
    assert load_file(path).problems == (
        "(file name): “EHR Downtime” is not a runbook id; name the file with lower-case letters, "
        "digits and dashes, like ehr-downtime.yaml",
    )


def test_a_good_file_loads_with_its_id_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "short.yaml"
    path.write_text(HEAD + "steps:\n" + STEP.replace("}", ", expected_minutes: 5}"), "utf-8")
    loaded = load_file(path)
    assert loaded.problems == ()
    assert loaded.id == "short"
    assert loaded.runbook is not None
    assert loaded.runbook.steps[0].expected_minutes == 5


def test_the_exported_json_schema_is_current() -> None:
    shipped = (SHIPPED_DIR / "schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(), (
        "regenerate: python -m bot runbooks schema > runbooks/schema.json"
    )


def test_the_three_shipped_runbooks_load_and_point_editors_at_the_schema() -> None:
    ids = []
    for path in sorted(SHIPPED_DIR.glob("*.yaml")):
        loaded = load_file(path)
        assert loaded.problems == (), path
        assert path.read_text(encoding="utf-8").startswith(
            "# yaml-language-server: $schema=schema.json"
        )
        ids.append(loaded.id)
    assert ids == ["ehr-downtime", "teams-outage", "workstation-boot-loop"]


def test_the_boot_loop_runbook_hands_recovery_keys_out_one_to_one_never_in_a_channel() -> None:
    loaded = load_file(SHIPPED_DIR / "workstation-boot-loop.yaml")
    assert loaded.runbook is not None
    keys = next(step for step in loaded.runbook.steps if step.id == "recovery-keys")
    assert "one-to-one" in keys.title
    assert keys.warning is not None
    assert keys.warning.startswith("Never post recovery keys in Slack, Matrix")
    text = "\n".join(path.read_text(encoding="utf-8") for path in SHIPPED_DIR.glob("*.yaml"))
    assert not re.search(r"\d{6}-\d{6}-\d{6}", text)  # nothing shaped like a BitLocker key
