"""Links to the web board: issue a signed, expiring URL; check a token on every request;
revoke every link at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from bot.domain.board_token import BoardToken, Checked, check, sign
from bot.storage.store import Store

BOARD_PATH = "/board"


@dataclass(frozen=True)
class IssuedLink:
    url: str
    expires: datetime


class BoardLinks:
    def __init__(self, store: Store, base_url: str, expiry: timedelta) -> None:
        self._access = store.board_links
        self._facility = store.facility.slug
        self.base_url = base_url.rstrip("/")
        self.expiry = expiry

    async def issue(self, now: datetime) -> IssuedLink:
        generation = await self._access.generation()
        token = BoardToken(generation, now + self.expiry)
        signed = sign(await self._access.secret(), self._facility, token)
        return IssuedLink(f"{self.base_url}{BOARD_PATH}?t={quote(signed)}", token.expires)

    async def check(self, text: str, now: datetime) -> Checked:
        secret = await self._access.secret()
        return check(secret, self._facility, text, await self._access.generation(), now)

    async def generation(self) -> int:
        return await self._access.generation()

    async def revoke_all(self) -> int:
        return await self._access.revoke_all()
