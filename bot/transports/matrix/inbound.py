"""Matrix message events → Commands: `!status ...`, or `/status ...` sent as a plain message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.command import Command
from bot.domain.models import Actor

PREFIXES = ("!", "/")


def command_text(body: str) -> str | None:
    """The command line in a message body, or None when the message is not a command."""
    text = _without_reply_fallback(body).strip()
    if not text or text[0] not in PREFIXES:
        return None
    command = text[1:].strip()
    if not command or command[0] in PREFIXES:
        return None
    return command


def _without_reply_fallback(body: str) -> str:
    """Replies quote the original as `> ` lines and a blank line first; drop them."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:])


def relation(event: Any) -> dict[str, Any]:
    content = event.source.get("content", {})
    relates: Any = content.get("m.relates_to") or {}
    return relates if isinstance(relates, dict) else {}


def thread_root(event: Any) -> str | None:
    relates = relation(event)
    if relates.get("rel_type") == "m.thread" and isinstance(relates.get("event_id"), str):
        return str(relates["event_id"])
    return None


def is_edit(event: Any) -> bool:
    return relation(event).get("rel_type") == "m.replace"


def to_command(event: Any, text: str, room_id: str, display_name: str | None) -> Command:
    """The event id is the command id: a redelivered event never writes twice."""
    return Command(
        id=f"matrix:{event.event_id}",
        actor=Actor(id=event.sender, name=display_name or event.sender, transport="matrix"),
        text=text,
        channel=room_id,
        thread=thread_root(event),
        received_at=datetime.fromtimestamp(event.server_timestamp / 1000, UTC),
    )
