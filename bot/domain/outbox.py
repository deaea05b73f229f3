"""Messages Lifeline owes channels, as the outbox keeps them: a kind naming the service that
knows the targets, and the little it needs to rebuild them in any process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

BROADCAST = "broadcast"  # every copy of one broadcast: {"broadcast": "B-3"}
ROLLCALL = "rollcall"  # one round of roll-call asks (or a reminder)
BOARD = "board"  # an incident's live board, first post: {"incident", "transport", "channel"}


@dataclass(frozen=True)
class OutboxMessage:
    kind: str
    payload: dict[str, Any]

    def fields(self) -> dict[str, str]:
        return {"kind": self.kind, "payload": json.dumps(self.payload, sort_keys=True)}


def broadcast_copies(broadcast_id: str) -> OutboxMessage:
    return OutboxMessage(BROADCAST, {"broadcast": broadcast_id})


def board_post(incident_id: str, transport: str, channel: str | None) -> OutboxMessage:
    return OutboxMessage(
        BOARD, {"incident": incident_id, "transport": transport, "channel": channel}
    )


def rollcall_asks(
    incident_id: str,
    departments: tuple[str, ...],
    origin_transport: str,
    origin_channel: str | None,
    *,
    reminder: bool = False,
) -> OutboxMessage:
    return OutboxMessage(
        ROLLCALL,
        {
            "incident": incident_id,
            "departments": list(departments),
            "transport": origin_transport,
            "channel": origin_channel,
            "reminder": reminder,
        },
    )
