"""Driving Lifeline on a real Synapse: staff users' nio clients, and the bot run in-process the
way `python -m bot serve` assembles it (build_lifeline, then start)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, ErrorResponse, RoomCreateResponse
from pydantic import SecretStr

from bot.app import Lifeline, build_lifeline
from bot.config.settings import Settings
from bot.config.tuning import Tuning
from bot.domain.facility import FacilityConfig
from bot.transports.matrix import MatrixTransport
from tests.synapse import MatrixUser, SynapseServer

Event = dict[str, Any]
WAIT = 15.0


class StaffClient:
    """A person on the homeserver: sends messages with a real nio client and sees what
    arrives in their rooms (every event's raw JSON, in order). With `crypto_store` it is an
    e2e-capable client like Element (its own device keys, in that directory): it encrypts in
    encrypted rooms, and what it decrypted is in the timeline as plaintext, its id in
    `decrypted`."""

    def __init__(
        self, synapse: SynapseServer, user: MatrixUser, crypto_store: Path | None = None
    ) -> None:
        self.synapse = synapse
        self.user = user
        config = AsyncClientConfig(encryption_enabled=crypto_store is not None)
        store = ""
        if crypto_store is not None:
            crypto_store.mkdir(parents=True, exist_ok=True)
            store = str(crypto_store)
        self.client = AsyncClient(synapse.url, user.user_id, store_path=store, config=config)
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.timeline: dict[str, list[Event]] = {}
        self.decrypted: set[str] = set()
        self._since: str | None = None

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def close(self) -> None:
        await self.client.close()

    async def create_room(
        self,
        invite: Sequence[str] = (),
        *,
        encrypted: bool = False,
        power: dict[str, int] | None = None,
    ) -> str:
        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        override = None
        if power:
            override = {"users": power}
        response = await self.client.room_create(
            invite=list(invite),
            initial_state=initial_state,
            power_level_override=override,
        )
        assert isinstance(response, RoomCreateResponse), response
        return str(response.room_id)

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert not isinstance(response, ErrorResponse), response

    async def invite(self, room_id: str, user_id: str) -> None:
        response = await self.client.room_invite(room_id, user_id)
        assert not isinstance(response, ErrorResponse), response

    async def send(self, room_id: str, body: str, *, msgtype: str = "m.text", **extra: Any) -> str:
        return await self.send_event(
            room_id, "m.room.message", {"msgtype": msgtype, "body": body, **extra}
        )

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        if self.client.olm is not None:
            await self._keep_keys()
        response = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True
        )
        assert not isinstance(response, ErrorResponse), response
        return str(response.event_id)

    async def _keep_keys(self) -> None:
        """What Element does after each sync: upload, query and claim keys."""
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self.send_event(room_id, "m.reaction", content)

    async def _sync_once(self, timeout_ms: int) -> None:
        response = await self.client.sync(timeout=timeout_ms, since=self._since)
        assert not isinstance(response, ErrorResponse), response
        self._since = response.next_batch
        if self.client.olm is not None:
            await self._keep_keys()
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if getattr(event, "decrypted", False):
                    self.decrypted.add(event.event_id)
                    source = {**event.source, "event_id": event.event_id, "sender": event.sender}
                    self.timeline.setdefault(room_id, []).append(source)
                else:
                    self.timeline.setdefault(room_id, []).append(event.source)

    async def wait_for(
        self, room_id: str, matches: Callable[[Event], bool], timeout: float = WAIT
    ) -> Event:
        """The first event in the room matching `matches`, syncing until it arrives."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.timeline.get(room_id, []):
                if matches(event):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [_summary(event) for event in self.timeline.get(room_id, [])]
                raise AssertionError(f"no matching event in {room_id} after {timeout}s: {seen}")
            await self._sync_once(int(min(remaining, 2.0) * 1000))

    async def reply_to(self, room_id: str, event_id: str, timeout: float = WAIT) -> Event:
        """The bot's answer to the message `event_id`."""
        return await self.wait_for(room_id, lambda event: replied_to(event) == event_id, timeout)

    def events_from(self, room_id: str, sender: str) -> list[Event]:
        return [e for e in self.timeline.get(room_id, []) if e["sender"] == sender]

    async def notifications(self) -> list[Event]:
        """What Synapse's push rules decided to notify this user about (with highlight flags)."""
        data = await self.synapse.request("GET", "/_matrix/client/v3/notifications", self.user)
        return list(data["notifications"])


def replied_to(event: Event) -> str | None:
    relation = event.get("content", {}).get("m.relates_to", {})
    event_id = relation.get("m.in_reply_to", {}).get("event_id")
    return str(event_id) if event_id is not None else None


def is_membership(user_id: str, membership: str) -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        return (
            event["type"] == "m.room.member"
            and event.get("state_key") == user_id
            and event["content"].get("membership") == membership
        )

    return matches


def _summary(event: Event) -> str:
    content = event.get("content", {})
    return (
        f"{event['type']} {event['sender']} {content.get('body', content.get('membership', ''))!r}"
    )


class BotRunner:
    """One run of the bot process, in-process: start it, use it, stop it. Several runs may share a
    data dir (restart) and the session's redis-server (its `redis` fixture flushed it)."""

    def __init__(
        self,
        synapse: SynapseServer,
        bot: MatrixUser,
        redis_url: str,
        data_dir: Path,
        facility: FacilityConfig,
        allowed: str,
        *,
        login: dict[str, Any] | None = None,
        **tuning: Any,
    ) -> None:
        credentials = login if login is not None else {"matrix_password": bot.password}
        self.settings = Settings(
            _env_file=None,
            matrix_homeserver=synapse.url,
            matrix_user_id=bot.user_id,
            **{name: SecretStr(value) for name, value in credentials.items()},
            matrix_allowed_users=allowed,
            redis_url=SecretStr(redis_url),
            LIFELINE_DATA_DIR=data_dir,
        )
        self.facility = facility
        self.tuning = tuning
        self.lifeline: Lifeline | None = None
        self.transport: MatrixTransport | None = None

    async def start(self, *, wait: bool = True) -> MatrixTransport:
        tuning = Tuning(
            edit_interval=0.2,
            matrix_sync_timeout_ms=5000,
            matrix_reconnect_min=0.2,
            matrix_reconnect_max=1.0,
            **self.tuning,
        )
        lifeline = await build_lifeline(self.settings, self.facility, tuning=tuning)
        assert list(lifeline.transports) == ["matrix"], lifeline.transports
        transport = lifeline.transports["matrix"]
        assert isinstance(transport, MatrixTransport)
        await lifeline.start()
        self.lifeline, self.transport = lifeline, transport
        if wait:
            await transport.wait_synced(WAIT)
        return transport

    async def stop(self) -> None:
        if self.lifeline is not None:
            await self.lifeline.close()
        self.transport = self.lifeline = None

    async def settle(self) -> None:
        """Let board updates in flight finish."""
        assert self.lifeline is not None
        await self.lifeline.events.drain()
        if self.lifeline.live_board is not None:
            await self.lifeline.live_board.settle()
