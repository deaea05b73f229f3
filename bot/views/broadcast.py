"""A broadcast's copy as every channel receives it (HICS 213 General Message)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.broadcast import PRIORITY_LABELS, Broadcast
from bot.domain.reply import Action, Reply, ReplyField
from bot.domain.timefmt import format_time


def broadcast_reply(broadcast: Broadcast, acks: int, tz: ZoneInfo, now: datetime) -> Reply:
    """The copy every channel receives; its footer carries the acknowledgement count."""
    when = format_time(broadcast.at, tz, now)
    fields = [
        ReplyField(label="From", value=f"{broadcast.sender.name} ({broadcast.sender_role})"),
        ReplyField(label="Priority", value=PRIORITY_LABELS[broadcast.priority]),
        ReplyField(label="Time", value=when),
    ]
    if broadcast.incident_id:
        fields.append(ReplyField(label="Incident", value=broadcast.incident_id))
    return Reply(
        title=f"{broadcast.id} · {broadcast.priority.upper()} · General Message",
        fields=fields,
        lines=[broadcast.text],
        actions=[Action(label="Acknowledge", command=f"ack {broadcast.id}", style="primary")],
        footer=f"Acknowledged by {acks}",
        footer_command=f"ack {broadcast.id}",
    )
