"""Forgiving parsing of the words inside commands: departments, states, mentions, notes."""

from __future__ import annotations

import difflib
import re

from bot.domain.command import Words
from bot.domain.errors import UserError
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import REPORTABLE_STATES, STATE_ALIASES, Actor, State, Transport

MAX_NOTE_CHARS = 2000
_SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:[^\s]+$")


def department_names(facility: FacilityConfig) -> dict[str, Department]:
    return facility.department_names


def find_department(word: str, facility: FacilityConfig) -> Department | None:
    key = word.lower().strip()
    names = department_names(facility)
    return names.get(key) or names.get(key.replace(" ", "-")) or names.get(key.replace("_", "-"))


def resolve_department(
    words: Words, index: int, facility: FacilityConfig
) -> tuple[Department, int]:
    """The department named at `index` (one word, or two as in `blood bank`), and the next index."""
    word = words.tokens[index]
    dept = find_department(word, facility)
    if dept is not None:
        return dept, index + 1
    if index + 1 < len(words):
        pair = find_department(f"{word}-{words.tokens[index + 1]}", facility)
        if pair is not None:
            return pair, index + 2
    raise UserError(unknown_department(word, facility))


def unknown_department(word: str, facility: FacilityConfig) -> str:
    names = department_names(facility)
    guess = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.6)
    if guess:
        return f"There is no department “{word}”. Did you mean {names[guess[0]].id}?"
    known = ", ".join(dept.id for dept in facility.departments)
    return f"There is no department “{word}”. Departments: {known}."


def parse_state(word: str) -> State:
    state = STATE_ALIASES.get(word.lower())
    if state is None:
        valid = ", ".join(s.value for s in REPORTABLE_STATES)
        raise UserError(
            f"“{word}” is not a state. Use one of: {valid} "
            "(or green/yellow/red, ok, degraded, out)."
        )
    return state


def check_note(note: str, what: str = "note") -> str:
    if len(note) > MAX_NOTE_CHARS:
        raise UserError(
            f"That {what} is {len(note):,} characters; the limit is {MAX_NOTE_CHARS:,}. "
            "Shorten it and send it again."
        )
    return note


def parse_mention(word: str, transport: Transport) -> Actor | None:
    """A user named in a command: Slack `<@U123|name>`, Matrix `@user:server`, console `@name`."""
    slack = _SLACK_MENTION.match(word)
    if slack:
        return Actor(id=slack[1], name=slack[2] or slack[1], transport="slack")
    if _MATRIX_ID.match(word):
        return Actor(id=word, name=word[1:].split(":")[0], transport="matrix")
    if word.startswith("@") and len(word) > 1:
        return Actor(id=word[1:], name=word[1:], transport=transport)
    return None
