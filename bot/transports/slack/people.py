"""Slack's directory of people: a handoff goes only to a `<@U…>` that users.info reports as an
active human (not a bot, not deactivated, not Lifeline itself)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import UserError
from bot.domain.models import Actor
from bot.domain.people import NotAPerson

log = structlog.get_logger(__name__)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")

NOT_A_MENTION = (
    "“@{name}” is not a Slack user. Mention the new commander so Slack links the name: type @ "
    "and pick them from the list (incident handoff @name)."
)
UNKNOWN = "Slack has no user {user} in this workspace, so command was not handed over."
A_BOT = "{name} is a bot. Command can only be handed to a person."
ITSELF = "Lifeline cannot be incident commander. Hand command to a person."
DEACTIVATED = "{name}'s Slack account is deactivated. Hand command to someone active."
UNAVAILABLE = (
    "Lifeline could not check that user with Slack just now, so command was not handed over. "
    "Try again in a minute."
)


class SlackPeople:
    def __init__(
        self, client: AsyncWebClient, bot_user_id: Callable[[], str | None], timeout: float
    ) -> None:
        self._client = client
        self._bot_user_id = bot_user_id
        self.timeout = timeout

    async def person(self, user_id: str, room: str | None) -> Actor:
        if not _USER_ID.match(user_id):
            raise NotAPerson(NOT_A_MENTION.format(name=user_id))
        if user_id == self._bot_user_id():
            raise NotAPerson(ITSELF)
        try:
            response = await asyncio.wait_for(self._client.users_info(user=user_id), self.timeout)
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                raise NotAPerson(UNKNOWN.format(user=user_id)) from None
            log.warning("slack.person_unchecked", user=user_id, error=error.response.get("error"))
            raise UserError(UNAVAILABLE) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("slack.person_unchecked", user=user_id, error=type(error).__name__)
            raise UserError(UNAVAILABLE) from None
        user = response.get("user")
        if not isinstance(user, dict):
            raise UserError(UNAVAILABLE)
        name = _name(user) or user_id
        if user.get("is_bot") or user.get("is_app_user") or user_id == "USLACKBOT":
            raise NotAPerson(ITSELF if user_id == self._bot_user_id() else A_BOT.format(name=name))
        if user.get("deleted"):
            raise NotAPerson(DEACTIVATED.format(name=name))
        return Actor(id=user_id, name=name, transport="slack")


def _name(user: dict[str, object]) -> str:
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"),
                 user.get("name")):  # fmt: skip
        if isinstance(name, str) and name.strip():
            return name
    return ""
