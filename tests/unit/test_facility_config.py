from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.facility_file import load_facility
from bot.domain.facility import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lifeline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_full_example_from_the_design_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
facility: General Hospital
timezone: America/New_York
checkin_interval: 45m
departments:
  - id: pharmacy
    name: Pharmacy
    aliases: [rx, pharm]
    slack_channel: C0PHARM
    matrix_room: "!pharm:hospital.org"
roles:
  admin: [U0ADMIN]
  commander: [U0IC, "@ic:hospital.org"]
  it: [U0IT]
channels:
  incident: {slack: C0INCIDENT, matrix: "!cmd:hospital.org"}
  broadcast: {slack: [C0ALLSTAFF], matrix: ["!all:hospital.org"]}
""",
    )
    config = load_facility(path)
    assert config.slug == "general-hospital"
    assert config.checkin_interval == timedelta(minutes=45)
    assert config.departments[0].aliases == ("rx", "pharm")
    assert config.roles.commander == ("U0IC", "@ic:hospital.org")
    assert config.channels.broadcast.slack == ("C0ALLSTAFF",)


def test_no_file_means_the_built_in_departments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ids = [dept.id for dept in load_facility(None).departments]
    assert ids == ["pharmacy", "lab", "radiology", "emergency", "icu", "surgery", "nursing",
                   "blood-bank", "registration", "dietary", "it"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("facility: X\ncolour: blue\n", "colour: unknown key"),
        ("departments:\n  - id: pharmacy\n    shift: night\n", "departments.0.shift: unknown key"),
        ("timezone: Mars/Olympus\n", "timezone: unknown time zone 'Mars/Olympus'; use a name like America/New_York"),
        ("checkin_interval: soon\n", "checkin_interval: “soon” is not a duration; use a number with s, m, h or d, like 15m or 2h"),
        ("departments:\n  - id: Pharmacy Dept\n", "departments.0.id: must be lower-case letters, digits and dashes, like blood-bank"),
        ("departments:\n  - {id: lab}\n  - {id: lab}\n", "departments: department 'lab' is listed twice"),
        ("departments:\n  - {id: lab, aliases: [x]}\n  - {id: rad, aliases: [x]}\n", "departments: 'x' names both lab and rad"),
        ("departments: []\n", "departments: list at least one department"),
        ("roles:\n  nurse: [U1]\n", "roles.nurse: unknown key"),
        ("- just\n- a list\n", "expected a mapping of keys (facility, departments, ...)"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_facility(path)
    assert str(caught.value) == f"{path}: {message}"


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "facility: X\ndepartments: [pharmacy\n")
    with pytest.raises(ConfigError) as caught:
        load_facility(path)
    assert str(caught.value).startswith(f"{path}: line 3 not valid YAML")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_facility(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot read (No such file or directory)"


def test_the_broadcast_policy_and_phi_guard_settings_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
broadcast_policy:
  urgent_needs_role: false
phi_guard:
  mrn_patterns: ['\\bE\\d{7}\\b']
  allow_confirm: true
""",
    )
    facility = load_facility(path)
    assert facility.broadcast_policy.urgent_needs_role is False
    assert facility.phi_guard.mrn_patterns == (r"\bE\d{7}\b",)
    assert facility.phi_guard.allow_confirm is True


def test_the_safe_defaults_hold_without_a_file() -> None:
    from bot.domain.facility import FacilityConfig

    facility = FacilityConfig()
    assert (facility.broadcast_policy.urgent_needs_role, facility.phi_guard.allow_confirm) == (
        True,
        False,
    )


def test_a_phi_pattern_that_is_not_a_regex_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "phi_guard:\n  mrn_patterns: ['(unclosed']\n")
    with pytest.raises(ConfigError) as error:
        load_facility(path)
    assert str(error.value) == (
        f"{path}: phi_guard.mrn_patterns: '(unclosed' is not a regular expression: "
        "missing ), unterminated subpattern at position 0"
    )
