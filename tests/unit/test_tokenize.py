from __future__ import annotations

import pytest

from bot.domain.command import tokenize
from bot.domain.errors import UserError


def test_words_split_on_whitespace_and_the_note_keeps_its_exact_text() -> None:
    words = tokenize("status pharmacy down  cabinets  on override")
    assert words.tokens[:3] == ["status", "pharmacy", "down"]
    assert words.rest(3) == "cabinets  on override"


def test_double_quotes_group_words() -> None:
    words = tokenize('incident start "Teams outage" sev 2')
    assert words.tokens == ["incident", "start", "Teams outage", "sev", "2"]


def test_a_quoted_note_loses_its_quotes() -> None:
    assert tokenize('status lab partial "phoning critical values"').rest(3) == (
        "phoning critical values"
    )


def test_apostrophes_and_backslashes_are_literal() -> None:
    words = tokenize(r"status it down can't reach C:\Windows\System32")
    assert words.tokens[3:] == ["can't", "reach", r"C:\Windows\System32"]


def test_smart_quotes_from_phones_count_as_quotes_but_the_note_keeps_them() -> None:
    words = tokenize("status rx down “cabinets” on override")
    assert words.tokens[3] == "cabinets"
    assert words.rest(3) == "“cabinets” on override"


def test_unbalanced_quote_is_a_clear_error() -> None:
    with pytest.raises(UserError) as caught:
        tokenize('status "blood bank down')
    assert caught.value.message == (
        'That has an opening quote (") with no closing one. Close the quote, or leave the quotes out.'
    )


def test_rest_past_the_end_is_empty() -> None:
    assert tokenize("status").rest(1) == ""


def test_a_no_break_space_keeps_a_name_one_word_with_or_without_quotes() -> None:
    assert tokenize("incident handoff <@U2|Sam\u00a0Okafor>").tokens[2] == "<@U2|Sam\u00a0Okafor>"
    assert tokenize('x "y" <@U2|Sam\u00a0Okafor>').tokens[2] == "<@U2|Sam\u00a0Okafor>"
