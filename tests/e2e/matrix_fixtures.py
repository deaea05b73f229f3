"""The session's Synapse homeserver, and per test: fresh users and a bot to run against it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from redis.asyncio import Redis

from bot.domain.facility import Channels, ChannelTargets, FacilityConfig
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.e2e.matrix_harness import BotRunner, StaffClient
from tests.synapse import MatrixUser, SynapseServer


@pytest.fixture(scope="session")
def synapse() -> Iterator[SynapseServer]:
    """A real Synapse (from the matrix-synapse package), started once for the session. If it
    cannot start, every test using it errors with Synapse's own log: nothing is skipped."""
    directory = Path(tempfile.mkdtemp(prefix="ll-synapse-"))
    server = SynapseServer(directory)
    server.start()
    server.admin = server.register("admin", admin=True)
    print(f"\nSynapse {server.url} ready in {server.startup_seconds:.1f}s")
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class MatrixWorld:
    """One test's cast: the bot account, allowed staff, an outsider, and the store they share."""

    synapse: SynapseServer
    redis_url: str
    store: Store
    data_dir: Path
    bot: MatrixUser
    alice: StaffClient
    bob: StaffClient
    mallory: StaffClient
    facility: FacilityConfig
    runners: list[BotRunner] = field(default_factory=list)
    clients: list[StaffClient] = field(default_factory=list)

    @property
    def allowed(self) -> str:
        return f"{self.alice.user_id},@bob*:localhost"

    def runner(self, *, login: dict[str, Any] | None = None, **tuning: Any) -> BotRunner:
        """A bot run: logs in with the bot's password unless `login` names other settings
        (`{"matrix_access_token": ...}`); `tuning` replaces MatrixConfig fields."""
        runner = BotRunner(
            self.synapse,
            self.bot,
            self.redis_url,
            self.data_dir,
            self.facility,
            self.allowed,
            login=login,
            **tuning,
        )
        self.runners.append(runner)
        return runner

    def incident_room_alias(self, name: str) -> str:
        """Configure the incident room by alias (`#name-<bot>:localhost`); start the bot after."""
        alias = f"#{name}-{self.bot.localpart}:localhost"
        self.facility = FacilityConfig(
            facility="General Hospital",
            timezone="America/New_York",
            channels=Channels(incident=ChannelTargets(matrix=alias)),
        )
        return alias

    async def point_alias(self, alias: str, room_id: str) -> None:
        await self.synapse.request(
            "PUT", f"/_matrix/client/v3/directory/room/{quote(alias)}", self.alice.user,
            {"room_id": room_id},
        )  # fmt: skip

    async def e2e_staff(self, prefix: str = "bob") -> StaffClient:
        """A new allowed person (`bob…` matches MATRIX_ALLOWED_USERS) on an e2e-capable client
        with its own device keys, like Element; closed with the others."""
        user = self.synapse.register(prefix)
        await self.synapse.unlimit_messages(user.user_id)
        client = StaffClient(self.synapse, user, crypto_store=self.data_dir.parent / user.localpart)
        self.clients.append(client)
        return client

    async def started_bot(self, *, login: dict[str, Any] | None = None, **tuning: Any) -> BotRunner:
        runner = self.runner(login=login, **tuning)
        await runner.start()
        return runner

    async def room_with_bot(self, **options: Any) -> str:
        """A room alice created and the bot joined (on her invitation)."""
        room_id = await self.alice.create_room(invite=[self.bot.user_id], **options)
        await self.alice.wait_for(room_id, lambda e: _joined(e, self.bot.user_id))
        return room_id


def _joined(event: dict[str, Any], user_id: str) -> bool:
    return (
        event["type"] == "m.room.member"
        and event.get("state_key") == user_id
        and event["content"].get("membership") == "join"
    )


@pytest.fixture
async def matrix(
    synapse: SynapseServer,
    redis_server: EmbeddedRedis,
    redis: Redis,
    facility: FacilityConfig,
    tmp_path: Path,
) -> AsyncIterator[MatrixWorld]:
    clients = [StaffClient(synapse, synapse.register(name)) for name in ("alice", "bob", "mallory")]
    for client in clients:  # people type slowly; the bot's own limit stays Synapse's default
        await synapse.unlimit_messages(client.user_id)
    world = MatrixWorld(
        synapse=synapse,
        redis_url=redis_server.url,
        store=Store(redis, facility),
        data_dir=tmp_path / "data",
        bot=synapse.register("lifeline"),
        alice=clients[0],
        bob=clients[1],
        mallory=clients[2],
        facility=facility,
    )
    try:
        yield world
    finally:
        for runner in world.runners:
            await runner.stop()
        for client in [*clients, *world.clients]:
            await client.close()
