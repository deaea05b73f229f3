"""One module per command; handlers see Command, Words and Context, never a platform or Redis."""

from __future__ import annotations

from bot.context import CommandSpec
from handlers import help, incident, log, runbook, status


def command_specs() -> list[CommandSpec]:
    return [help.SPEC, status.SPEC, incident.SPEC, runbook.SPEC, log.SPEC]
