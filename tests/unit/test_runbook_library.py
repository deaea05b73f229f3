from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.domain.errors import UserError
from bot.services.runbook_library import SHIPPED_DIR, RunbookLibrary

GOOD = """title: {title}
summary: s
when_to_use: w
owner_role: IT Unit Leader
steps:
  - {{id: a, title: First, detail: do it, owner: it}}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def touch_later(path: Path) -> None:
    """Make sure the change is visible to an mtime check even on a coarse clock."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def shipped() -> RunbookLibrary:
    return RunbookLibrary(SHIPPED_DIR)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ehr-downtime", "ehr-downtime"),
        ("ehr", "ehr-downtime"),
        ("EHR", "ehr-downtime"),
        ("ehr_downtime", "ehr-downtime"),
        ("teams", "teams-outage"),
        ("boot", "workstation-boot-loop"),
        ("crowdstrike", "workstation-boot-loop"),
        ("workstation-boot-loop.yaml", "workstation-boot-loop"),
    ],
)
def test_a_runbook_is_found_by_id_prefix_or_word(
    shipped: RunbookLibrary, name: str, expected: str
) -> None:
    assert shipped.find(name)[0] == expected


def test_an_unknown_name_gets_a_did_you_mean(shipped: RunbookLibrary) -> None:
    with pytest.raises(UserError) as caught:
        shipped.find("ehr-dowtime")
    assert caught.value.message == "There is no runbook “ehr-dowtime”. Did you mean ehr-downtime?"


def test_a_runbook_sharing_only_an_ending_is_not_a_did_you_mean(shipped: RunbookLibrary) -> None:
    with pytest.raises(UserError) as caught:
        shipped.find("lab-downtime")
    assert caught.value.message == (
        "There is no runbook “lab-downtime”. "
        "Runbooks: ehr-downtime, teams-outage, workstation-boot-loop."
    )


def test_a_name_like_nothing_lists_the_runbooks(shipped: RunbookLibrary) -> None:
    with pytest.raises(UserError) as caught:
        shipped.find("zebra")
    assert caught.value.message == (
        "There is no runbook “zebra”. Runbooks: ehr-downtime, teams-outage, workstation-boot-loop."
    )


def test_a_name_matching_several_runbooks_asks_which(tmp_path: Path) -> None:
    write(tmp_path, "ehr-downtime.yaml", GOOD.format(title="EHR downtime"))
    write(tmp_path, "ehr-recovery.yaml", GOOD.format(title="EHR recovery"))
    with pytest.raises(UserError) as caught:
        RunbookLibrary(tmp_path).find("ehr")
    assert caught.value.message == (
        "“ehr” matches several runbooks: ehr-downtime, ehr-recovery. Say which one."
    )


def test_an_empty_or_missing_directory_has_no_runbooks(tmp_path: Path) -> None:
    library = RunbookLibrary(tmp_path / "nowhere")
    assert library.files() == []
    with pytest.raises(UserError) as caught:
        library.find("ehr")
    assert caught.value.message == "There is no runbook “ehr”; no runbooks are loaded."


def test_a_broken_file_is_unavailable_with_its_reason_and_the_rest_still_load(
    tmp_path: Path,
) -> None:
    write(tmp_path, "good.yaml", GOOD.format(title="Good"))
    write(tmp_path, "broken.yaml", "title: Broken\nsteps: []\n")
    write(tmp_path, "notes.txt", "not a runbook")
    library = RunbookLibrary(tmp_path)
    assert [f.id for f in library.available()] == ["good"]
    [broken] = library.unavailable()
    assert broken.reason == "summary: missing; it is required (and 3 more)"
    with pytest.raises(UserError) as caught:
        library.find("broken")
    assert caught.value.message == (
        "The runbook “broken” cannot be used: broken.yaml has a problem: summary: missing; it is "
        "required (and 3 more). IT can fix the file (check it with: python -m bot runbooks check); "
        "it is re-read on the next command."
    )


def test_an_edited_file_is_re_read_on_the_next_lookup(tmp_path: Path) -> None:
    path = write(tmp_path, "drill.yaml", GOOD.format(title="Before"))
    library = RunbookLibrary(tmp_path)
    assert library.find("drill")[1].title == "Before"
    path.write_text(GOOD.format(title="After"), encoding="utf-8")
    touch_later(path)
    assert library.find("drill")[1].title == "After"
    path.write_text("title: [unclosed\n", encoding="utf-8")
    touch_later(path)
    assert [f.reason for f in library.unavailable()] == [
        "line 2: not valid YAML (expected ',' or ']', but got '<stream end>')"
    ]
    path.unlink()
    assert library.files() == []


def test_a_new_file_appears_without_a_restart(tmp_path: Path) -> None:
    library = RunbookLibrary(tmp_path)
    assert library.files() == []
    write(tmp_path, "new.yml", GOOD.format(title="New"))
    assert library.find("new")[1].title == "New"


def test_reload_reads_every_file_again_even_with_the_same_mtime(tmp_path: Path) -> None:
    path = write(tmp_path, "same.yaml", GOOD.format(title="Aaaa"))
    library = RunbookLibrary(tmp_path)
    assert library.find("same")[1].title == "Aaaa"
    stat = path.stat()
    path.write_text(GOOD.format(title="Bbbb"), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    assert library.find("same")[1].title == "Aaaa"
    library.reload()
    assert library.find("same")[1].title == "Bbbb"


def test_two_files_for_one_id_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path, "drill.yaml", GOOD.format(title="Yaml"))
    write(tmp_path, "drill.yml", GOOD.format(title="Yml"))
    library = RunbookLibrary(tmp_path)
    assert library.find("drill")[1].title == "Yaml"
    assert [f.reason for f in library.unavailable()] == [
        "(file name): drill.yaml already defines the runbook “drill”"
    ]
