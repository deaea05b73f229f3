"""What a handler gets besides the command: the store, the facility, the clock, the event bus."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.command import Command, Words
from bot.events import EventBus
from bot.facility import FacilityConfig
from bot.reply import Reply
from bot.runbook_library import RunbookLibrary
from bot.store import Store

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


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    store: Store
    facility: FacilityConfig
    events: EventBus
    commands: Sequence[CommandSpec] = ()
    clock: Callable[[], datetime] = field(default=utc_now)
    runbooks: RunbookLibrary = field(default_factory=RunbookLibrary.default)

    def now(self) -> datetime:
        return self.clock()
