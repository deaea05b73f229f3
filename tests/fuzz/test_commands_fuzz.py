"""The tokenizer and every command's parser under random lines: an answer or a clear refusal,
never an unexpected error; and nothing stored that hides characters, breaks lines or carries
what the PHI guard holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from bot.domain.command import tokenize
from bot.domain.errors import UserError
from bot.domain.facility import PhiPolicy
from bot.domain.log_query import LogQuery
from bot.domain.phi_guard import findings
from bot.domain.user_text import clean
from tests.conftest import Bot
from tests.fuzz.strategies import command_lines, examples

ROUTED_CASES = 800
PEOPLE = ("alice", "dr.lee", "ic1", "admin1", "it1")


UNCLOSED = (
    'That has an opening quote (") with no closing one. Close the quote, or leave the quotes out.'
)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(command_lines)
def test_tokenize_gives_words_or_a_clear_refusal(line: str) -> None:
    text = clean(line)  # as every Command holds it
    try:
        words = tokenize(text)
    except UserError as refusal:
        message = refusal.message
        words = None
    if words is None:
        assert message == UNCLOSED
        return
    assert len(words.rests) == len(words.tokens)
    if not any(quote in text for quote in '"“”„«»'):  # unquoted: words, each its rest's start
        assert all(token and not any(c in token for c in " \t\r\n") for token in words.tokens)
        for index in range(len(words)):
            assert words.rest(index).startswith(words.tokens[index].strip())  # NBSP is space


async def test_random_command_lines_are_answered_and_store_only_clean_text(bot: Bot) -> None:
    drawn = examples(st.tuples(command_lines, st.sampled_from(PEOPLE)), ROUTED_CASES)
    with capture_logs() as logs:
        for text, user in drawn:
            reply = await bot.send(text, user=user)
            assert reply.outcome in ("ok", "recorded", "error", "denied")
            assert not any("unexpected problem" in line for line in reply.lines), text
        await bot.events.drain()

    assert not [entry for entry in logs if entry["event"] == "command.failed"]
    stored = await bot.store.query_log(LogQuery(limit=5000))
    assert len(stored) > 50  # the random lines reached the writes, not only the refusals
    for entry in stored:
        assert entry.actor.id in PEOPLE
        assert clean(entry.text) == entry.text
        if entry.kind.value != "denied":
            assert "\n" not in entry.text
        assert findings(entry.text, PhiPolicy()) == [], entry.text
