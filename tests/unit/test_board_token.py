"""Board link tokens: only an exact, current, unexpired signature passes; anything else is
refused for the right reason, and no input makes the check fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.board_token import BoardToken, Verdict, check, sign

SECRET = b"k" * 32
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
TOKEN = BoardToken(3, NOW + timedelta(hours=12))
SIGNED = sign(SECRET, "general-hospital", TOKEN)


def test_a_fresh_link_is_valid_until_it_expires() -> None:
    checked = check(SECRET, "general-hospital", SIGNED, 3, NOW)
    assert checked.verdict is Verdict.VALID and checked.token == TOKEN
    at_expiry = check(SECRET, "general-hospital", SIGNED, 3, TOKEN.expires)
    assert at_expiry.verdict is Verdict.EXPIRED


def test_a_revoked_generation_is_refused_as_revoked() -> None:
    assert check(SECRET, "general-hospital", SIGNED, 4, NOW).verdict is Verdict.REVOKED


def test_another_facility_or_secret_does_not_accept_it() -> None:
    assert check(SECRET, "other-hospital", SIGNED, 3, NOW).verdict is Verdict.INVALID
    assert check(b"x" * 32, "general-hospital", SIGNED, 3, NOW).verdict is Verdict.INVALID


def test_a_longer_expiry_with_the_old_signature_is_refused() -> None:
    generation, expires, signature = SIGNED.split(".")
    stretched = f"{generation}.{int(expires) + 86400}.{signature}"
    assert check(SECRET, "general-hospital", stretched, 3, NOW).verdict is Verdict.INVALID


@given(st.integers(0, len(SIGNED) - 1), st.characters(codec="ascii"))
def test_changing_any_character_invalidates_it(position: int, char: str) -> None:
    changed = SIGNED[:position] + char + SIGNED[position + 1 :]
    verdict = check(SECRET, "general-hospital", changed, 3, NOW).verdict
    assert verdict is (Verdict.VALID if changed == SIGNED else Verdict.INVALID)


@given(st.text(max_size=200))
def test_any_text_is_judged_without_error_and_never_valid(text: str) -> None:
    verdict = check(SECRET, "general-hospital", text, 3, NOW).verdict
    assert verdict is not Verdict.VALID or text == SIGNED
