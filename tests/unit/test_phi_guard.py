"""The PHI guard on its corpus (tests/phi_corpus/): operational notes pass, patient data is held;
and what a held message is answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.facility import PhiPolicy
from bot.domain.phi_guard import PhiHeld, findings, hold_phi

CORPUS = Path(__file__).parent.parent / "phi_corpus"
DEFAULT = PhiPolicy()


def lines(name: str) -> list[str]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


OPERATIONAL = lines("operational.txt")
PHI = lines("phi.txt")


def test_the_corpus_is_big_enough() -> None:
    assert (len(OPERATIONAL) >= 60, len(PHI) >= 40) == (True, True)


@pytest.mark.parametrize("note", OPERATIONAL)
def test_an_operational_note_passes(note: str) -> None:
    assert [finding.kind for finding in findings(note, DEFAULT)] == []


@pytest.mark.parametrize("text", PHI)
def test_patient_data_is_held(text: str) -> None:
    assert findings(text, DEFAULT) != []


def test_a_held_note_says_what_and_how_without_repeating_it() -> None:
    with pytest.raises(PhiHeld) as held:
        hold_phi("bed 12 Mr Jones MRN 4417892 needs insulin", DEFAULT, "note")

    assert held.value.message == (
        "Not sent: this note looks like it contains a medical record number and a patient's "
        "name with a room or bed. Lifeline is not a place for patient information, so nothing "
        "was recorded or posted. Send it again without it: leave the number out (say which unit "
        "or bed instead); give the room or bed without the name."
    )
    assert "4417892" not in held.value.message and "Jones" not in held.value.message


def test_a_facility_pattern_adds_its_own_record_numbers() -> None:
    policy = PhiPolicy(mrn_patterns=(r"\bE\d{7}\b",))
    assert findings("E1234567 to CT", DEFAULT) == []
    assert [f.kind for f in findings("E1234567 to CT", policy)] == ["a medical record number"]


def test_confirming_is_offered_only_where_the_facility_allows_it() -> None:
    policy = PhiPolicy(allow_confirm=True)
    with pytest.raises(PhiHeld) as held:
        hold_phi("Mrs. Patel in room 14 waiting", policy, "note")
    assert held.value.message.endswith(
        "If it is not patient information, send it again starting with not-phi."
    )
    assert hold_phi("not-phi Mrs. Patel in room 14 waiting", policy, "note") == (
        "Mrs. Patel in room 14 waiting"
    )
    with pytest.raises(PhiHeld):
        hold_phi("not-phi Mrs. Patel in room 14 waiting", DEFAULT, "note")
