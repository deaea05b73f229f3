"""Reply → Matrix event content: an `m.notice` with a plain body and escaped HTML, no mentions."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from bot.domain.reply import Reply, Table
from bot.domain.user_text import clean
from bot.transports.text import render_text

COMMAND_PREFIX = "!"
HTML_FORMAT = "org.matrix.custom.html"
MAX_CONTENT_BYTES = 60_000  # Matrix events are capped at 64 KiB, envelope included
MARKERS = {
    "up": "🟢",
    "partial": "🟡",
    "down": "🔴",
    "na": "⚪",
    "unknown": "❔",
    "stale": "⏳",
}
LEGEND = "🟢 up · 🟡 partial · 🔴 down · ⚪ n/a · ❔ no report · ⏳ stale"


def render_content(reply: Reply, *, notify: bool = False) -> dict[str, Any]:
    """The event content for `reply`. Only `notify` (set by the bot, never by user text) makes
    it an `m.text` that mentions the room; `m.notice` never notifies, by Matrix's push rules."""
    body = _plain(reply)
    html = _html(reply)
    mentions: dict[str, Any] = {}
    msgtype = "m.notice"
    if notify:
        body, html = f"@room {body}", f"@room {html}"
        mentions = {"room": True}
        msgtype = "m.text"
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": body,
        "format": HTML_FORMAT,
        "formatted_body": html,
        "m.mentions": mentions,
    }
    return _fit(content)


def mentioning(content: dict[str, Any], user_id: str, name: str) -> dict[str, Any]:
    """`content` addressed to one person: an `m.text` that mentions only them (a pill in the
    HTML, their id in `m.mentions`), so it notifies them and nobody else."""
    link = f'<a href="https://matrix.to/#/{escape(user_id, quote=True)}">{_escape(name)}</a>'
    return {
        **content,
        "msgtype": "m.text",
        "body": f"{name}: {content['body']}",
        "formatted_body": f"{link}: {content.get('formatted_body', _escape(content['body']))}",
        "format": HTML_FORMAT,
        "m.mentions": {"user_ids": [user_id]},
    }


def as_reaction(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


def as_reply(content: dict[str, Any], event_id: str, thread: str | None) -> dict[str, Any]:
    """`content` as an answer to `event_id` (inside the thread `thread`, when there is one)."""
    relation: dict[str, Any] = {"m.in_reply_to": {"event_id": event_id}}
    if thread:
        relation.update(rel_type="m.thread", event_id=thread, is_falling_back=False)
    return {**content, "m.relates_to": relation}


def as_edit(content: dict[str, Any], event_id: str) -> dict[str, Any]:
    """An `m.replace` edit of `event_id` whose new content is `content`."""
    fallback = {
        "msgtype": content["msgtype"],
        "body": "* " + content["body"],
        "m.mentions": {},
    }
    if "formatted_body" in content:
        fallback.update(format=HTML_FORMAT, formatted_body="* " + content["formatted_body"])
    return {
        **fallback,
        "m.new_content": content,
        "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
    }


def _plain(reply: Reply) -> str:
    parts = [
        render_text(reply.model_copy(update={"actions": [], "footer": "", "footer_command": ""}))
    ]
    if reply.actions:
        parts.append("Reply with: " + " · ".join(_command(a.command) for a in reply.actions))
    if reply.footer or reply.footer_command:
        parts.append(reply.footer_line(COMMAND_PREFIX))
    return "\n".join(part for part in parts if part)


def _command(command: str) -> str:
    return COMMAND_PREFIX + command


def _html(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(f"<strong>{_escape(reply.title)}</strong>")
    if reply.table is not None and reply.table.rows:
        parts.append(_table(reply.table))
    if reply.fields:
        parts.append(
            "<br>".join(
                f"<b>{_escape(field.label)}:</b> {_escape(field.value)}" for field in reply.fields
            )
        )
    if reply.lines:
        parts.append("<br>".join(_escape(line) for line in reply.lines))
    if reply.actions:
        commands = " · ".join(
            f"<code>{_escape(_command(action.command))}</code>" for action in reply.actions
        )
        parts.append(f"Reply with: {commands}")
    if reply.footer or reply.footer_command:
        parts.append(f"<em>{_escape(reply.footer_line(COMMAND_PREFIX))}</em>")
    return "<br>".join(parts)


def _table(table: Table) -> str:
    marked = any(row.marker for row in table.rows)
    head = "".join(f"<th>{_escape(column)}</th>" for column in table.columns)
    rows = []
    for row in table.rows:
        cells = [_escape(cell) for cell in row.cells]
        if marked and cells:
            cells[0] = f"{MARKERS.get(row.marker or '', '')} {cells[0]}".lstrip()
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    legend = f"<br><sub>{LEGEND}</sub>" if marked else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{legend}"


def _escape(text: str) -> str:
    """User text is inert: no tags, no attributes, nothing hidden or reordered, line breaks kept."""
    return escape(clean(text), quote=True).replace("\n", "<br>")


def _fit(content: dict[str, Any]) -> dict[str, Any]:
    """A reply too big for one event keeps its plain text, cut, and drops the HTML."""
    if len(json.dumps(content).encode()) <= MAX_CONTENT_BYTES:
        return content
    body = content["body"]
    while len(json.dumps(body).encode()) > MAX_CONTENT_BYTES - 1000:
        body = body[: int(len(body) * 0.8)]
    trimmed = {
        key: value for key, value in content.items() if key not in ("format", "formatted_body")
    }
    trimmed["body"] = body.rstrip() + "\n… (cut: too long for one Matrix message)"
    return trimmed
