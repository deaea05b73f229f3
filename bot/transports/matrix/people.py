"""Matrix's directory of people: a handoff goes only to a member of the incident room (joined,
not only invited) who is not Lifeline itself."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.delivery import DeliveryFailed
from bot.domain.errors import UserError
from bot.domain.models import Actor
from bot.domain.people import NotAPerson

_MATRIX_ID = re.compile(r"^@[^:\s]+:[^\s]+$")

NOT_AN_ID = (
    "“@{name}” is not a Matrix user. Use their full Matrix id, like @dr.lee:hospital.org "
    "(incident handoff @user:server)."
)
ITSELF = "Lifeline cannot be incident commander. Hand command to a person."
NOT_A_MEMBER = (
    "{user} is not in the incident room, so command was not handed over. Invite them first."
)
ONLY_INVITED = (
    "{user} has been invited to the incident room but has not joined yet; command can be handed "
    "over once they join."
)
UNAVAILABLE = (
    "Lifeline could not check the incident room's members just now, so command was not handed "
    "over. Try again in a minute."
)


class MatrixPeople:
    def __init__(
        self,
        own_user_id: str,
        client: Callable[[], Any],
        room_id: Callable[[str], Awaitable[str]],
    ) -> None:
        self._own = own_user_id
        self._client = client
        self._room_id = room_id

    async def person(self, user_id: str, room: str | None) -> Actor:
        if not _MATRIX_ID.match(user_id):
            raise NotAPerson(NOT_AN_ID.format(name=user_id.lstrip("@")))
        if user_id == self._own:
            raise NotAPerson(ITSELF)
        client = self._client()
        if room is None or client is None:
            raise UserError(UNAVAILABLE)
        try:
            room_id = await self._room_id(room)
        except DeliveryFailed:
            raise UserError(UNAVAILABLE) from None
        members = client.rooms.get(room_id)
        if members is None:
            raise UserError(UNAVAILABLE)
        if user_id not in members.users:
            raise NotAPerson(NOT_A_MEMBER.format(user=user_id))
        if user_id in members.invited_users:
            raise NotAPerson(ONLY_INVITED.format(user=user_id))
        name = members.user_name(user_id) or user_id
        return Actor(id=user_id, name=name, transport="matrix")
