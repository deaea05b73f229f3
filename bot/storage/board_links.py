"""The web board's link secret and revocation generation, shared by every replica via Redis."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from bot.storage.domain_errors import speaks_domain
from bot.storage.keys import Keys

SECRET_BYTES = 32


@speaks_domain
class BoardLinkKeys:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        """The signing key: created at random by the first process that needs it, then the
        same for every process on this Redis (a restart does not void links)."""
        if self._secret is None:
            key = self._keys.board_link_secret
            await self._redis.set(key, secrets.token_bytes(SECRET_BYTES), nx=True)
            found = await self._redis.get(key)
            if not found:  # deleted between the two calls: never sign with an empty key
                raise RuntimeError("the board link secret vanished; try again")
            self._secret = found.encode() if isinstance(found, str) else bytes(found)
        return self._secret

    async def generation(self) -> int:
        found = await self._redis.get(self._keys.board_link_generation)
        return int(found) if found is not None else 0

    async def revoke_all(self) -> int:
        """Void every link issued so far; returns the new generation."""
        return int(await self._redis.incr(self._keys.board_link_generation))
