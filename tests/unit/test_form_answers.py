"""Submitted forms as command lines: any state Slack (or a forger) sends is either a line the
router reads as the typed check-in, or answers under the fields; it never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.command import tokenize
from bot.domain.facility import FacilityConfig
from bot.transports.slack import form_answers
from bot.transports.slack.modals import Origin

FACILITY = FacilityConfig()
DEPTS = [d.id for d in FACILITY.departments]
anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def values(dept: Any, state: Any, note: Any) -> dict[str, Any]:
    return {
        "department": {"department": {"selected_option": {"value": dept}}},
        "state": {"state": {"selected_option": {"value": state}}},
        "note": {"note": {"value": note}},
    }


@given(st.dictionaries(st.text(max_size=10), anything, max_size=4))
def test_any_state_at_all_gives_errors_or_a_line_never_an_exception(raw: dict[str, Any]) -> None:
    filled = form_answers.checkin(raw, FACILITY)

    assert bool(filled.errors) != bool(filled.line)


@given(
    st.sampled_from(DEPTS),
    st.sampled_from(["up", "partial", "down", "na"]),
    st.text(alphabet=st.characters(blacklist_characters='"“”„«»'), max_size=300),
)
def test_a_valid_form_is_the_typed_check_in_with_the_note_intact(
    dept: str, state: str, note: str
) -> None:
    filled = form_answers.checkin(values(dept, state, note), FACILITY)

    assert filled.errors == {}
    words = tokenize(filled.line)
    assert words.tokens[:3] == ["status", dept, state]
    assert words.rest(3) == note.strip()


@given(st.text(max_size=200), st.text(max_size=200))
def test_metadata_of_any_shape_decodes_to_an_origin(channel: str, metadata: str) -> None:
    origin, extra = Origin.decode(metadata)
    assert isinstance(origin, Origin) and all(isinstance(v, str) for v in extra.values())
    again, _ = Origin.decode(Origin(channel or None, None, False).encode(p="x"))
    assert again.channel == (channel or None)
