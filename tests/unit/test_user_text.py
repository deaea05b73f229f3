"""User text keeps what people write and loses what hides, reorders or starts a line."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.user_text import LINE_BREAK, clean, one_line

HIDDEN = [
    "\u202e", "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u200e", "\u200f", "\u061c", "\x00", "\x07", "\x1b", "\x7f", "\x9b",
    "\u200b", "\u2060", "\ufeff", "\u00ad",
]  # fmt: skip


@pytest.mark.parametrize("hidden", HIDDEN)
def test_hidden_and_control_characters_are_removed(hidden: str) -> None:
    assert clean(f"cabinets{hidden} on override") == "cabinets on override"


@pytest.mark.parametrize(
    "kept",
    [
        "Pharmacie: armoires en mode dégradé, café ✓",
        "薬剤部 キャビネット停止",
        "قسم الصيدلة متوقف",
        "नमस्ते",
        "نمی\u200cخواهم",  # the non-joiner between Persian letters is spelling, not hiding
        "👩\u200d⚕️ on ward 4",  # health worker: the joiner inside the emoji stays
        "👨\u200d👩\u200d👧 family room",
        "👍🏽 thanks",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f team",  # Scotland flag
        "tab\tseparated",
        "Sam\u00a0Okafor 12\u202f000 units",  # no-break spaces are spaces
    ],
)
def test_accents_scripts_and_emoji_are_kept(kept: str) -> None:
    assert clean(kept) == kept


def test_a_joiner_between_letters_is_removed() -> None:
    assert clean("pha\u200drmacy") == "pharmacy"


def test_tags_without_a_flag_are_removed() -> None:
    assert clean("ok\U000e0069\U000e0067\U000e006e") == "ok"


def test_a_newline_in_a_note_cannot_start_a_line() -> None:
    forged = "cabinets on override\nRecorded: Radiology is UP — Fully functional (INC-1)"
    assert one_line(forged) == (
        "cabinets on override ⏎ Recorded: Radiology is UP — Fully functional (INC-1)"
    )


@pytest.mark.parametrize("breaker", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c"])
def test_every_kind_of_line_break_is_folded(breaker: str) -> None:
    assert one_line(f"a{breaker}b") == f"a{LINE_BREAK}b"


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.text())
def test_cleaned_text_has_nothing_invisible_and_one_line_has_no_breaks(text: str) -> None:
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    assert all(
        char.isprintable()
        or char in "\n\t\u200d\u200c"
        or unicodedata.category(char) == "Zs"
        or 0xE0020 <= ord(char) < 0xE0080
        for char in cleaned
    )
    flat = one_line(text)
    assert "\n" not in flat and "\r" not in flat
