"""A command as every transport hands it to the router, and the one tokenizer for its text."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.errors import UserError
from bot.domain.models import Actor
from bot.domain.user_text import clean

MAX_COMMAND_CHARS = 4000
_WORD = re.compile(r"[^ \t\r\n]+")  # shlex's whitespace: a no-break space joins words
_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


class Command(BaseModel):
    """`text` is the whole line without prefix: `status pharmacy down cabinets on override`.

    `id` is stable per delivery (Slack event id, Matrix event id, console line uuid) and is used as
    the idempotency key of the command's write, so a retried delivery never records twice.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    actor: Actor
    text: str
    channel: str | None = None
    thread: str | None = None
    # A link to what the command is about, when a platform gives one (the message a Slack
    # "Add to incident log" shortcut was used on); a note keeps it in the log entry.
    reference: str | None = None
    granted_roles: frozenset[str] = Field(default_factory=frozenset)
    received_at: datetime

    @field_validator("text")
    @classmethod
    def _cleaned(cls, text: str) -> str:
        """The one door user text comes in by: what it hides or reorders stays outside."""
        return clean(text)


@dataclass(frozen=True)
class Words:
    """Tokens of a command line, with the raw text that follows each one (for free-text notes)."""

    tokens: list[str]
    rests: list[str]

    def __len__(self) -> int:
        return len(self.tokens)

    def rest(self, index: int) -> str:
        """The raw text from token `index` on, quotes kept, unless it is one quoted token."""
        if index >= len(self.tokens):
            return ""
        raw = self.rests[index].strip()
        quoted = raw.translate(_SMART_QUOTES)
        if index == len(self.tokens) - 1 and quoted[:1] == '"' and quoted[-1:] == '"':
            return self.tokens[index]
        return raw

    def lower(self, index: int) -> str:
        return self.tokens[index].lower() if index < len(self.tokens) else ""


def tokenize(text: str) -> Words:
    """Split like a shell, forgivingly: only double quotes group words (so "can't" is fine),
    backslashes are literal (so C:\\Windows survives), and smart quotes count as quotes."""
    normalized = text.translate(_SMART_QUOTES)
    if '"' not in normalized:  # the usual case; shlex costs ~20x more for the same answer
        matches = list(_WORD.finditer(text))
        return Words([m.group() for m in matches], [text[m.start() :] for m in matches])
    lexer = shlex.shlex(normalized, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    tokens: list[str] = []
    rests: list[str] = []
    position = 0
    try:
        while True:
            start = _skip_space(normalized, position)
            token = lexer.get_token()
            if token is None or token == lexer.eof:
                break
            tokens.append(token)
            rests.append(text[start:])
            position = _position(lexer, normalized)
    except ValueError:
        raise UserError(
            'That has an opening quote (") with no closing one. Close the quote, or leave the '
            "quotes out."
        ) from None
    return Words(tokens, rests)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _position(lexer: shlex.shlex, text: str) -> int:
    stream = lexer.instream
    return stream.tell() if hasattr(stream, "tell") else len(text)
