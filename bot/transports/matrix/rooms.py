"""Who the bot listens to and which rooms it joins: invites only from allowed users."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from nio import InviteMemberEvent


class RoomPolicy:
    """`MATRIX_ALLOWED_USERS` globs, like `@*:hospital.org`; with none set, only users of the
    bot's own homeserver."""

    def __init__(self, globs: Iterable[str], own_user_id: str) -> None:
        self.own_user_id = own_user_id
        server = own_user_id.partition(":")[2]
        self.globs = tuple(globs) or (f"@*:{server}",)

    def allows(self, user_id: str) -> bool:
        return user_id != self.own_user_id and any(
            fnmatchcase(user_id, glob) for glob in self.globs
        )

    def inviter(self, invite_state: Iterable[Any]) -> str | None:
        """Who invited the bot, from an invited room's stripped state."""
        for event in invite_state:
            if (
                isinstance(event, InviteMemberEvent)
                and event.state_key == self.own_user_id
                and event.membership == "invite"
            ):
                return str(event.sender)
        return None


def is_own_join(event: Any, own_user_id: str) -> bool:
    """The bot's own membership turning to `join` (not a profile change while joined)."""
    source = getattr(event, "source", {})
    if source.get("type") != "m.room.member" or source.get("state_key") != own_user_id:
        return False
    content = source.get("content", {})
    previous = source.get("unsigned", {}).get("prev_content", {})
    return bool(content.get("membership") == "join" and previous.get("membership") != "join")


def after_own_join(events: list[Any], own_user_id: str) -> list[Any]:
    """Events after the bot joined: what was said before it was there is not for it."""
    for index in range(len(events) - 1, -1, -1):
        if is_own_join(events[index], own_user_id):
            return events[index + 1 :]
    return events
