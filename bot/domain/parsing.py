"""Forgiving parsing of the words inside commands: departments, states, mentions, notes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeVar

from bot.domain.command import Words
from bot.domain.errors import UserError
from bot.domain.facility import Department, FacilityConfig
from bot.domain.models import REPORTABLE_STATES, STATE_ALIASES, Actor, State, Transport
from bot.domain.user_text import one_line

MAX_NOTE_CHARS = 2000
_SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:[^\s]+$")
T = TypeVar("T")


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
    guess = close_match(word, department_names(facility))
    if guess is not None:
        return f"There is no department “{word}”. Did you mean {guess.id}?"
    known = ", ".join(dept.id for dept in facility.departments)
    return f"There is no department “{word}”. Departments: {known}."


def close_match(word: str, names: Mapping[str, T]) -> T | None:
    """What `word` is a slip of the keyboard for, when that is one thing; otherwise None.

    A name is close when it starts with the same letter and `word` begins it (four letters or
    more: `surg`, `blood`) or is one slip from it: a letter dropped, added or two swapped
    (`labb`, `lba`); on a name of five letters or more also a letter changed (`pharmcy`,
    `radiolgy`), on one of eight or more two slips. A shared ending is not close (`cardiology`
    is not `radiology`), nor is a changed letter in a short code (`pacu` is not `pacs`), and
    one or two letters only match exactly (`ot` is neither `or` nor `it`, `rd` is not `rad`).
    """
    key = word.lower()
    found = {id(target): target for name, target in names.items() if _close(key, name)}
    return next(iter(found.values())) if len(found) == 1 else None


def _close(word: str, name: str) -> bool:
    if len(word) < 3 or len(name) < 3 or word[:1] != name[:1]:
        return False
    if len(word) >= 4 and name.startswith(word):
        return True
    if len(name) <= 4:
        return _slips(word, name, change=2) <= 1
    return _slips(word, name) <= (1 if len(name) < 8 else 2)


def _slips(typed: str, name: str, change: int = 1) -> int:
    """Letters dropped, added or swapped with a neighbour, and changed (`change` each), that
    turn `typed` into `name` (the optimal string alignment distance)."""
    before: list[int] = []
    previous = list(range(len(name) + 1))
    for i, letter in enumerate(typed, 1):
        row = [i]
        for j, wanted in enumerate(name, 1):
            cost = min(
                previous[j] + 1,
                row[j - 1] + 1,
                previous[j - 1] + (0 if letter == wanted else change),
            )
            if i > 1 and j > 1 and letter == name[j - 2] and typed[i - 2] == wanted:
                cost = min(cost, before[j - 2] + 1)
            row.append(cost)
        before, previous = previous, row
    return previous[-1]


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
    """A note, summary or broadcast text on one line (line breaks shown as ⏎), within the limit."""
    note = one_line(note)
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
