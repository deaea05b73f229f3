"""What a handler gets besides the command: the store, the facility, the clock, the event bus."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from bot.domain.clock import utc_now
from bot.domain.command import Command, Words
from bot.domain.facility import FacilityConfig
from bot.domain.models import Actor
from bot.domain.people import People
from bot.domain.phi_guard import hold_phi
from bot.domain.reply import Reply
from bot.services.board_links import BoardLinks
from bot.services.event_bus import EventBus
from bot.services.runbook_library import RunbookLibrary
from bot.storage.store import Store

log = structlog.get_logger(__name__)
Handler = Callable[[Command, Words, "Context"], Awaitable[Reply]]


@dataclass(frozen=True)
class CommandSpec:
    """A command's name, the words that also reach it, its help text and who may run it."""

    name: str
    summary: str
    usage: tuple[str, ...]
    examples: tuple[str, ...]
    handler: Handler
    aliases: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()  # empty: anyone (parts may still be restricted)
    notes: tuple[str, ...] = ()  # shown by `help <command>` after the usage: who may do what


@dataclass(frozen=True)
class Context:
    """Built once by the assembly (bot/app.py); handlers read it, nobody changes it."""

    store: Store
    facility: FacilityConfig
    events: EventBus
    commands: tuple[CommandSpec, ...] = ()
    clock: Callable[[], datetime] = field(default=utc_now)
    runbooks: RunbookLibrary = field(default_factory=RunbookLibrary.default)
    board_links: BoardLinks | None = None  # the web board's links (absent: no web board)
    # Each transport's directory of people, by transport name; filled in once the transports
    # are built. A transport without one (the console) takes any name.
    people: dict[str, People] = field(default_factory=dict)
    files: Path = Path("var") / "exports"  # where exports and reports are written

    def now(self) -> datetime:
        return self.clock()

    def screen(self, command: Command, text: str, what: str) -> str:
        """`text` through the PHI guard: held text raises PhiHeld (a private answer) and is
        never stored, posted or logged; a sender's confirmation is logged, without the text."""
        if not text:
            return text
        screened = hold_phi(text, self.facility.phi_guard, what)
        if screened is not text:
            log.info("phi.confirmed", what=what, actor=command.actor.id, command_id=command.id)
        return screened

    async def person(self, command: Command, named: Actor) -> Actor:
        """`named` as a person of the transport the command came from (see People)."""
        transport = command.actor.transport
        directory = self.people.get(transport)
        if directory is None:
            return named
        room = self.facility.channels.incident_on(transport, transport, command.channel)
        return await directory.person(named.id, room)
