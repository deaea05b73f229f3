"""Replies as Block Kit messages: user text escaped, Slack's limits kept, long replies split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.reply import Action, Reply, ReplyField, Table
from bot.domain.user_text import clean
from bot.transports.text import render_table

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FIELD_CHARS = 2000
MAX_FIELDS = 10
MAX_HEADER_CHARS = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTONS = 25
MAX_CONTEXT_CHARS = 2000
MAX_FALLBACK_CHARS = 3000
# Slack refuses very long messages (`msg_too_long`); a message's visible text stays under this.
MAX_MESSAGE_CHARS = 12000
MAX_CELL_CHARS = 300
ACTION_PREFIX = "lifeline-action-"
CHANNEL_MENTION = "<!channel>"

EMOJI = {
    "up": ":large_green_circle:",
    "partial": ":large_yellow_circle:",
    "down": ":red_circle:",
    "na": ":white_circle:",
    "unknown": ":grey_question:",
    "stale": ":warning:",
}


def escape(text: str) -> str:
    """Slack's three control characters; after this no user text can mention or link anyone
    (and nothing in it is hidden or reordered: `clean`)."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(escaped: str, limit: int) -> str:
    """Cut already-escaped text to `limit` characters without splitting an `&amp;`."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


@dataclass(frozen=True)
class SlackMessage:
    blocks: list[dict[str, Any]]
    text: str  # the plain-text fallback (notifications, screen readers, old clients)

    def payload(self) -> dict[str, Any]:
        return {"blocks": self.blocks, "text": self.text}


@dataclass
class _Piece:
    block: Block
    chars: int
    plain: str


@dataclass
class _Draft:
    pieces: list[_Piece] = field(default_factory=list)
    chars: int = 0


def render(reply: Reply, *, notify: bool = False) -> list[SlackMessage]:
    """One message, or several in order when the reply is too long for one."""
    pieces = _pieces(reply)
    if notify:  # the bot's own mention, never built from user text
        pieces.insert(0, _Piece(SectionBlock(text=MarkdownTextObject(text=CHANNEL_MENTION)), 0, ""))
    drafts: list[_Draft] = [_Draft()]
    for piece in pieces:
        draft = drafts[-1]
        full = len(draft.pieces) >= MAX_BLOCKS or draft.chars + piece.chars > MAX_MESSAGE_CHARS
        if draft.pieces and full:
            draft = _Draft()
            drafts.append(draft)
        draft.pieces.append(piece)
        draft.chars += piece.chars
    messages = [_message(draft) for draft in drafts]
    if notify:
        first = messages[0]
        messages[0] = SlackMessage(first.blocks, clip(f"{CHANNEL_MENTION} {first.text}", 3000))
    return messages


def render_one(reply: Reply) -> SlackMessage:
    """Exactly one message (an edit in place cannot become two): rows that do not fit are
    left out, and the message says how many."""
    messages = render(reply)
    if len(messages) == 1 or reply.table is None:
        return messages[0]
    rows = reply.table.rows
    keep = len(rows)
    while keep > 0:
        keep = max(0, keep - max(1, len(rows) // 20))
        hidden = len(rows) - keep
        table = Table(columns=reply.table.columns, rows=rows[:keep])
        note = f"{hidden} more rows are not shown here; ask Lifeline for the full list."
        trimmed = reply.model_copy(update={"table": table, "lines": [note, *reply.lines]})
        messages = render(trimmed)
        if len(messages) == 1:
            return messages[0]
    return messages[0]


def as_json(model: JsonObject) -> dict[str, Any]:
    """`model.to_dict()` without its validation pass. That pass re-checks Slack's limits with
    `dir()` on every object — two thirds of a check-in confirmation's rendering cost — and
    the limits are already kept by construction here (`fit`, `clip`, the MAX_* constants).
    tests/unit/test_slack_blocks.py holds this equal to `to_dict()` for every shape built here,
    and the Web API stand-in validates every message the tests send."""
    if type(model).to_dict is not JsonObject.to_dict:  # a model with its own serialization
        return dict(model.to_dict())
    found: dict[str, Any] = {}
    for key in model.attributes:
        value = getattr(model, key, None)
        if value is None or (hasattr(value, "__len__") and len(value) == 0):
            continue
        found[key] = _json_value(value)
    return found


def _json_value(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return as_json(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def _message(draft: _Draft) -> SlackMessage:
    blocks = [as_json(piece.block) for piece in draft.pieces]
    plain = "\n".join(piece.plain for piece in draft.pieces if piece.plain)
    return SlackMessage(blocks, escape(clip(plain, MAX_FALLBACK_CHARS)) or "Lifeline")


def _pieces(reply: Reply) -> list[_Piece]:
    pieces: list[_Piece] = []
    if reply.title:
        pieces.append(_title(reply.title))
    if reply.table is not None and reply.table.rows:
        pieces += _table(reply.table)
    pieces += _fields(reply.fields)
    pieces += _sections(reply.lines)
    if reply.footer or reply.footer_command:
        line = reply.footer_line()
        footer = fit(escape(line), MAX_CONTEXT_CHARS)
        block = ContextBlock(elements=[MarkdownTextObject(text=footer)])
        pieces.append(_Piece(block, len(footer), line))
    pieces += _actions(reply.actions)
    return pieces


def _title(title: str) -> _Piece:
    flat = " ".join(title.split())
    if len(flat) <= MAX_HEADER_CHARS:  # plain_text: Slack parses no mentions or links in it
        return _Piece(HeaderBlock(text=PlainTextObject(text=flat)), len(flat), flat)
    text = "*" + fit(escape(flat), MAX_SECTION_CHARS - 2) + "*"
    return _Piece(SectionBlock(text=MarkdownTextObject(text=text)), len(text), flat)


def _table(table: Table) -> list[_Piece]:
    cell_limit = max(20, min(MAX_CELL_CHARS, (MAX_SECTION_CHARS - 200) // len(table.columns)))
    heading = "_" + escape(" · ".join(table.columns)) + "_"
    lines = [heading]
    for row in table.rows:
        cells = [escape(clip(" ".join(cell.split()), cell_limit)) for cell in row.cells]
        first = f"*{cells[0]}*" if cells and cells[0] else ""
        text = " · ".join(part for part in [first, *cells[1:]] if part)
        emoji = EMOJI.get(row.marker or "")
        lines.append(fit(f"{emoji} {text}" if emoji else text, MAX_SECTION_CHARS))
    plain = render_table(table).split("\n")
    return _packed(lines, plain)


def _fields(fields: list[ReplyField]) -> list[_Piece]:
    pieces = []
    for start in range(0, len(fields), MAX_FIELDS):
        group = fields[start : start + MAX_FIELDS]
        texts = [
            fit(f"*{fit(escape(item.label), 200)}*\n{escape(item.value)}", MAX_FIELD_CHARS)
            for item in group
        ]
        block = SectionBlock(fields=[MarkdownTextObject(text=text) for text in texts])
        plain = "\n".join(f"{item.label}: {item.value}" for item in group)
        pieces.append(_Piece(block, sum(map(len, texts)), plain))
    return pieces


def _sections(lines: list[str]) -> list[_Piece]:
    escaped: list[str] = []
    plain: list[str] = []
    for line in lines:
        parts = _split_escaped(line, MAX_SECTION_CHARS)
        escaped += parts
        plain += [line] + [""] * (len(parts) - 1)
    return _packed(escaped, plain)


def _split_escaped(text: str, limit: int) -> list[str]:
    """Escape `text` and cut it into pieces of at most `limit` characters, never inside `&lt;`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return [escaped]
    parts: list[str] = []
    current = ""
    for char in text:
        piece = escape(char)
        if len(current) + len(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    parts.append(current)
    return parts


def _packed(lines: list[str], plain: list[str]) -> list[_Piece]:
    """Lines (already escaped, each within a section's limit) packed into as few sections as fit."""
    pieces: list[_Piece] = []
    current: list[str] = []
    current_plain: list[str] = []

    def flush() -> None:
        if current:
            text = "\n".join(current)
            block = SectionBlock(text=MarkdownTextObject(text=text))
            pieces.append(_Piece(block, len(text), "\n".join(p for p in current_plain if p)))
            current.clear()
            current_plain.clear()

    size = 0
    for line, raw in zip(lines, plain, strict=False):
        if current and size + 1 + len(line) > MAX_SECTION_CHARS:
            flush()
            size = 0
        size += len(line) + (1 if current else 0)
        current.append(line or " ")
        current_plain.append(raw)
    flush()
    return pieces


def _actions(actions: list[Action]) -> list[_Piece]:
    usable = [action for action in actions if len(action.command) <= MAX_BUTTON_VALUE]
    pieces = []
    for start in range(0, len(usable), MAX_BUTTONS):
        buttons = [
            ButtonElement(
                text=PlainTextObject(text=clip(action.label, MAX_BUTTON_TEXT)),
                value=action.command,
                action_id=f"{ACTION_PREFIX}{start + index}",
                style=None if action.style == "default" else action.style,
            )
            for index, action in enumerate(usable[start : start + MAX_BUTTONS])
        ]
        labels = " | ".join(action.label for action in usable[start : start + MAX_BUTTONS])
        pieces.append(_Piece(ActionsBlock(elements=buttons), len(labels), ""))
    return pieces
