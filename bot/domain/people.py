"""Who a command names: the port a transport offers so `incident handoff` reaches a person."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.domain.errors import UserError
from bot.domain.models import Actor


class NotAPerson(UserError):
    """The user named is not an active person of the transport; `message` says which way."""


@runtime_checkable
class People(Protocol):
    """A transport's directory: `person` gives the named user as an Actor (with the platform's
    display name) when they are a real, active, human user who can act in `room`, and raises
    NotAPerson otherwise (UserError when the platform could not be asked)."""

    async def person(self, user_id: str, room: str | None) -> Actor: ...
