"""One module per command; handlers see Command, Words and Context, never a platform or Redis."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec
from handlers import board, broadcast, help, incident, log, note, rollcall, runbook, status


def command_specs() -> list[CommandSpec]:
    return [
        help.SPEC,
        status.SPEC,
        incident.SPEC,
        runbook.SPEC,
        broadcast.SPEC,
        broadcast.ACK_SPEC,
        rollcall.SPEC,
        log.SPEC,
        note.SPEC,
        board.SPEC,
    ]
