"""Finding an outbox-marked message in Slack's history answer, which is outside input."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.transports.slack.outbox_marker import EVENT_TYPE, marked_message, outbox_metadata

KEY = "1700000000000-0 slack C1"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
other_message = st.fixed_dictionaries(
    {"ts": st.text(max_size=12)},
    optional={"metadata": json_values, "text": st.text(max_size=8)},
).filter(lambda m: m.get("metadata") != outbox_metadata(KEY))


def marked(ts: str) -> dict[str, Any]:
    return {"ts": ts, "text": "B-1", "metadata": outbox_metadata(KEY)}


@given(st.lists(other_message, max_size=6), st.lists(other_message, max_size=6))
def test_the_marked_message_is_found_among_any_others(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    assert marked_message([*before, marked("1700000000.000042"), *after], KEY) == (
        "1700000000.000042"
    )


@given(json_values)
def test_an_answer_of_any_shape_without_the_mark_finds_nothing_and_never_fails(
    answer: object,
) -> None:
    assert marked_message(answer, KEY) is None


def test_a_mark_for_another_entry_or_app_is_not_this_one() -> None:
    other_key = {"ts": "1.1", "metadata": outbox_metadata("1700000000000-0 slack C2")}
    other_app = {"ts": "1.2", "metadata": {"event_type": "x", "event_payload": {"outbox": KEY}}}
    assert marked_message([other_key, other_app], KEY) is None
    assert outbox_metadata(KEY) == {"event_type": EVENT_TYPE, "event_payload": {"outbox": KEY}}
