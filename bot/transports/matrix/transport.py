"""The Matrix transport: sync events → Commands → router → Replies as `m.notice`s, plus the
post / edit / pin the live board and broadcasts use. Every message goes through one send budget
(answers first, then posts, then edits); encrypted rooms are read and written encrypted."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from typing import Any

import structlog

from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed, MessageRef
from bot.domain.reply import Attachment, Reply
from bot.observability.metrics import Metrics
from bot.transports.matrix.budget import Priority, SendBudget
from bot.transports.matrix.client import SyncLoop, new_client
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.notices import CommanderNotices, IncidentDirectory, exempt_call
from bot.transports.matrix.people import MatrixPeople
from bot.transports.matrix.rate import send_patiently
from bot.transports.matrix.receiver import ACK_REACTIONS, BroadcastDirectory, Receiver
from bot.transports.matrix.render import as_edit, as_reaction, render_content
from bot.transports.matrix.session import SessionFiles

__all__ = ["ACK_REACTIONS", "BroadcastDirectory", "MatrixTransport"]
log = structlog.get_logger(__name__)
STOP_TIMEOUT = 10.0
ROOM_SYNC_WAIT = 10.0  # seconds a send waits for a just-joined room to appear in a sync
DUPLICATE_REACTION = "M_DUPLICATE_ANNOTATION"


class MatrixTransport:
    name = "matrix"

    def __init__(
        self,
        config: MatrixConfig,
        router: Router,
        metrics: Metrics,
        *,
        broadcasts: BroadcastDirectory | None = None,
        incidents: IncidentDirectory | None = None,
        incident_room: str | None = None,
    ) -> None:
        self.config = config
        self._metrics = metrics
        self._files = SessionFiles(config.data_dir)
        self._client: Any = None
        self._sync: SyncLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._aliases: dict[str, str] = {}
        self._incident_room = incident_room
        self.budget = SendBudget(config.retry, metrics, on_throttled=self._on_throttled)
        self.notices = CommanderNotices(
            config.user_id, incidents, self._incident_room_id, self._post_notice
        )
        # Where a ✅ reaction finds the broadcast it acknowledges; None: reactions are ignored.
        self.receiver = Receiver(config, router, lambda: self._client, self, broadcasts)
        self.people = MatrixPeople(config.user_id, lambda: self._client, self._room_id)

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Returns at once: logging in and syncing go on in the background, retried until the
        homeserver answers, so Slack and the web server never wait on Matrix."""
        self._client = new_client(self.config)
        self._sync = SyncLoop(self._client, self.config, self._files, self.receiver.on_sync)
        self._task = asyncio.create_task(self._sync.run(), name="matrix-sync")

    async def stop(self) -> None:
        if self._sync is not None:
            self._sync.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_TIMEOUT)
            except TimeoutError:
                log.warning("matrix.stop_timeout")
            except Exception:
                log.exception("matrix.sync_crashed")
            self._task = None
        await self.notices.settle()
        await self.budget.close()
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def ready(self) -> bool:
        return self._sync is not None and self._sync.connected

    def degraded(self) -> str | None:
        """Why Matrix works but slowly (the homeserver's rate limits), or None."""
        throttled = self.budget.throttled()
        self._metrics.throttled(self.name, throttled)
        if not throttled:
            return None
        return (
            f"rate limited by the homeserver (M_LIMIT_EXCEEDED); {self.budget.queued} messages "
            f"queued; exempt the bot: {exempt_call(self.config.user_id)}"
        )

    @property
    def device_id(self) -> str | None:
        return self._sync.device_id if self._sync else None

    @property
    def client(self) -> Any:
        return self._client

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Until the first sync was handled (tests, and callers that need the rooms)."""
        assert self._sync is not None, "start() first"
        await asyncio.wait_for(self._sync.synced.wait(), timeout)

    # Outbound --------------------------------------------------------------------------------

    async def post(
        self, channel: str, reply: Reply, *, notify: bool = False, key: str | None = None
    ) -> MessageRef:
        room_id = await self._room_id(channel)
        if notify:
            self._check_power(room_id, "ping")
        content = render_content(reply, notify=notify)
        event_id = await self._send(
            room_id, content, "post", Priority.MESSAGE, transaction=transaction_for(key)
        )
        for attachment in reply.attachments:
            await self.send_file(room_id, attachment)
        return MessageRef(self.name, room_id, event_id)

    async def find(self, channel: str, key: str) -> MessageRef | None:
        """Not looked up: posting again with `key` reuses its transaction id, which the
        homeserver de-duplicates for this login (the saved access token)."""
        return None

    async def update(self, ref: MessageRef, reply: Reply, *, notify: bool = False) -> None:
        """An urgent copy stays an `m.text` with `@room` (its new content); the edit itself
        mentions nobody, so it does not ping again. A newer edit replaces a queued one."""
        content = as_edit(render_content(reply, notify=notify), ref.message_id)
        await self._send(ref.channel, content, "edit", Priority.EDIT, coalesce=ref.message_id)

    async def canonical(self, channel: str) -> str:
        """A room alias (`#incident:server`) as the room id its messages carry."""
        return await self._room_id(channel)

    async def pin(self, ref: MessageRef) -> None:
        """Adds the message to the room's pinned events; needs the power to change room state,
        and without it the commander is told (the board still works, unpinned)."""
        if not self._check_power(ref.channel, "pin"):
            return
        try:
            current = await self.request(
                lambda: self._client.room_get_state_event(ref.channel, "m.room.pinned_events"),
                ref.channel,
                "read pins",
                accept=("M_NOT_FOUND",),
            )
            pinned = list(getattr(current, "content", {}).get("pinned", []))
            if ref.message_id in pinned:
                return
            await self._queued(
                lambda: self._client.room_put_state(
                    ref.channel, "m.room.pinned_events", {"pinned": [*pinned, ref.message_id]}
                ),
                ref.channel,
                "pin",
                Priority.EDIT,
            )
        except DeliveryFailed as failure:
            log.warning("matrix.not_pinned", room=ref.channel, reason=failure.reason)

    async def send_file(
        self, room_id: str, attachment: Attachment, relation: dict[str, Any] | None = None
    ) -> str:
        """Uploads to the homeserver's media repository — encrypted, in an encrypted room — then
        sends an `m.file` naming it (with the key to decrypt it, in an encrypted room)."""
        room = self._client.rooms.get(room_id) if self._client is not None else None
        encrypted = bool(room is not None and room.encrypted)
        keys: dict[str, Any] = {}

        def data(*_: int) -> Any:  # called again from the start if the upload is retried
            return attachment.path if attachment.path is not None else io.BytesIO(attachment.read())

        async def upload() -> Any:
            response, decryption = await self._client.upload(
                data,
                content_type=attachment.content_type,
                filename=attachment.name,
                encrypt=encrypted,
                filesize=attachment.size,
            )
            keys.update(decryption or {})
            return response

        uploaded = await self._queued(upload, room_id, "upload", Priority.ANSWER)
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": attachment.name,
            "filename": attachment.name,
            "info": {"mimetype": attachment.content_type, "size": attachment.size},
            "m.mentions": {},
        }
        if encrypted:
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        if relation:
            content["m.relates_to"] = relation
        return await self._send(room_id, content, "file", Priority.ANSWER)

    async def answer(self, room_id: str, content: dict[str, Any]) -> None:
        await self._send(room_id, content, "reply", Priority.ANSWER)

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        await self._queued(
            lambda: self._client.room_send(room_id, "m.reaction", as_reaction(event_id, key)),
            room_id,
            "react",
            Priority.EDIT,
            accept=(DUPLICATE_REACTION,),
        )

    def _check_power(self, room_id: str, what: str) -> bool:
        """Whether the bot may pin (`pin`) or notify the room (`ping`) there, by the room's
        power levels as last synced; when not, the commander is told (once per room)."""
        room = self._client.rooms.get(room_id) if self._client is not None else None
        if room is None:
            return True
        me, levels = self.config.user_id, room.power_levels
        allowed = (
            levels.can_user_send_state(me, "m.room.pinned_events")
            if what == "pin"
            else levels.can_user_notify(me, "room")
        )
        if not allowed:
            self.notices.lacking_power(room_id, what)
        return bool(allowed)

    async def _send(
        self,
        room_id: str,
        content: dict[str, Any],
        action: str,
        priority: Priority,
        coalesce: str | None = None,
        transaction: str | None = None,
    ) -> str:
        """Encrypted where the room is (trust on first use: see crypto.py)."""
        await self._logged_in(room_id)
        await self._known(room_id)
        transaction = transaction or uuid.uuid4().hex  # the same for every retry: posted once
        response = await self._queued(
            lambda: self._client.room_send(
                room_id,
                "m.room.message",
                content,
                tx_id=transaction,
                ignore_unverified_devices=True,
            ),
            room_id,
            action,
            priority,
            coalesce=coalesce,
        )
        return str(response.event_id)

    async def _queued(
        self,
        call: Any,
        room_id: str,
        action: str,
        priority: Priority,
        *,
        coalesce: str | None = None,
        accept: tuple[str, ...] = (),
    ) -> Any:
        await self._logged_in(room_id)
        return await self.budget.send(
            priority, call, room=room_id, action=action, accept=accept, coalesce=coalesce
        )

    async def request(
        self, call: Any, room_id: str, action: str, accept: tuple[str, ...] = ()
    ) -> Any:
        """A request that posts nothing (join, read state, resolve an alias): not budgeted."""
        await self._logged_in(room_id)
        return await send_patiently(
            call, self.config.retry, self._metrics, room=room_id, action=action, accept=accept
        )

    async def _logged_in(self, room_id: str) -> None:
        """Waits (within the retry bound) for a login in progress; fails at once when the
        homeserver refused the credentials."""
        sync, task = self._sync, self._task
        if sync is None or task is None or self._client is None:
            raise DeliveryFailed(self.name, room_id, "the Matrix transport is not started")
        if not sync.logged_in.is_set():
            login = asyncio.ensure_future(sync.logged_in.wait())
            try:
                await asyncio.wait(
                    {login, task},
                    timeout=self.config.retry.max_wait,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                login.cancel()
        if not sync.logged_in.is_set():
            reason = sync.failure or "not logged in yet"
            raise DeliveryFailed(self.name, room_id, f"not logged in to Matrix: {reason}")

    async def _known(self, room_id: str) -> None:
        """Whether a room is encrypted is known only once a sync brought it (a room joined a
        moment ago); wait for that, briefly, rather than guess and maybe send in the clear."""
        deadline = asyncio.get_running_loop().time() + ROOM_SYNC_WAIT
        while self._client is not None and room_id not in self._client.rooms:
            if asyncio.get_running_loop().time() > deadline:
                raise DeliveryFailed(self.name, room_id, "the bot is not in this room")
            await asyncio.sleep(0.05)

    async def _room_id(self, channel: str) -> str:
        """Rooms are configured by id (`!abc:server`) or alias (`#incident:server`)."""
        if not channel.startswith("#"):
            return channel
        if channel not in self._aliases:
            response = await self.request(
                lambda: self._client.room_resolve_alias(channel), channel, "resolve alias"
            )
            self._aliases[channel] = str(response.room_id)
        return self._aliases[channel]

    # The commander's notices -----------------------------------------------------------------

    def _on_throttled(self, retry_after: float) -> None:
        self.notices.throttled()

    async def _incident_room_id(self) -> str | None:
        if self._incident_room is None:
            return None
        try:
            return await self._room_id(self._incident_room)
        except DeliveryFailed:
            return None

    async def _post_notice(self, room_id: str, content: dict[str, Any]) -> None:
        await self._send(room_id, content, "notice", Priority.ANSWER)


def transaction_for(key: str | None) -> str | None:
    """A transaction id derived from an outbox key: a resend after a crash carries the same one,
    and the homeserver answers it with the event it already has instead of a second copy."""
    if key is None:
        return None
    return "lifeline-" + hashlib.sha256(key.encode()).hexdigest()[:32]
