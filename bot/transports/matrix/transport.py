"""The Matrix transport: sync events → Commands → router → Replies as `m.notice`s, plus the
post / edit / pin the live board and broadcasts use."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import uuid
from collections import OrderedDict
from typing import Any, Protocol

import structlog
from nio import (
    MessageDirection,
    ReactionEvent,
    RoomMessageText,
)

from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed, MessageRef
from bot.domain.reply import Reply
from bot.observability.metrics import Metrics
from bot.transports.matrix.client import SyncLoop, new_client
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.inbound import command_text, is_edit, to_command
from bot.transports.matrix.rate import send_patiently
from bot.transports.matrix.render import as_edit, as_reply, render_content
from bot.transports.matrix.rooms import ENCRYPTED_NOTICE, RoomPolicy, after_own_join
from bot.transports.matrix.session import SessionFiles, SyncPosition

log = structlog.get_logger(__name__)
ACK_REACTIONS = frozenset({"✅", "✅\ufe0f"})
REMEMBERED_EVENTS = 2000
STOP_TIMEOUT = 10.0


class BroadcastDirectory(Protocol):
    """Which broadcast a posted message carries (the store, once broadcasts exist)."""

    async def broadcast_for_message(self, transport: str, message_id: str) -> str | None: ...


class MatrixTransport:
    name = "matrix"

    def __init__(
        self,
        config: MatrixConfig,
        router: Router,
        metrics: Metrics,
        *,
        broadcasts: BroadcastDirectory | None = None,
    ) -> None:
        self.config = config
        self._router = router
        self._metrics = metrics
        # Where a ✅ reaction finds the broadcast it acknowledges; None: reactions are ignored.
        self.broadcasts = broadcasts
        self._files = SessionFiles(config.data_dir)
        self._policy = RoomPolicy(config.allowed_users, config.user_id)
        self._client: Any = None
        self._sync: SyncLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._aliases: dict[str, str] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    # Lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Returns at once: logging in and syncing go on in the background, retried until the
        homeserver answers, so Slack and the web server never wait on Matrix."""
        self._client = new_client(self.config)
        self._sync = SyncLoop(self._client, self.config, self._files, self._on_sync)
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
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def ready(self) -> bool:
        return self._sync is not None and self._sync.connected

    @property
    def device_id(self) -> str | None:
        return self._sync.device_id if self._sync else None

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Until the first sync was handled (tests, and callers that need the rooms)."""
        assert self._sync is not None, "start() first"
        await asyncio.wait_for(self._sync.synced.wait(), timeout)

    # Outbound --------------------------------------------------------------------------------

    async def post(
        self, channel: str, reply: Reply, *, notify: bool = False, key: str | None = None
    ) -> MessageRef:
        room_id = await self._room_id(channel)
        content = render_content(reply, notify=notify)
        event_id = await self._send(room_id, content, "post", transaction_for(key))
        return MessageRef(self.name, room_id, event_id)

    async def find(self, channel: str, key: str) -> MessageRef | None:
        """Not looked up: posting again with `key` reuses its transaction id, which the
        homeserver de-duplicates for this login (the saved access token)."""
        return None

    async def update(self, ref: MessageRef, reply: Reply) -> None:
        await self._send(ref.channel, as_edit(render_content(reply), ref.message_id), "edit")

    async def canonical(self, channel: str) -> str:
        """A room alias (`#incident:server`) as the room id its messages carry."""
        return await self._room_id(channel)

    async def pin(self, ref: MessageRef) -> None:
        """Adds the message to the room's pinned events; needs the power to change room state,
        and without it only logs why (the board still works, unpinned)."""
        try:
            current = await self._call(
                lambda: self._client.room_get_state_event(ref.channel, "m.room.pinned_events"),
                ref.channel,
                "read pins",
                accept=("M_NOT_FOUND",),
            )
            pinned = list(getattr(current, "content", {}).get("pinned", []))
            if ref.message_id in pinned:
                return
            await self._call(
                lambda: self._client.room_put_state(
                    ref.channel, "m.room.pinned_events", {"pinned": [*pinned, ref.message_id]}
                ),
                ref.channel,
                "pin",
            )
        except DeliveryFailed as failure:
            log.warning("matrix.not_pinned", room=ref.channel, reason=failure.reason)

    async def _send(
        self, room_id: str, content: dict[str, Any], action: str, transaction: str | None = None
    ) -> str:
        transaction = transaction or uuid.uuid4().hex  # the same for every retry: posted once
        response = await self._call(
            lambda: self._client.room_send(room_id, "m.room.message", content, tx_id=transaction),
            room_id,
            action,
        )
        return str(response.event_id)

    async def _call(
        self, request: Any, room_id: str, action: str, accept: tuple[str, ...] = ()
    ) -> Any:
        await self._logged_in(room_id)
        return await send_patiently(
            request, self.config.retry, self._metrics, room=room_id, action=action, accept=accept
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

    async def _room_id(self, channel: str) -> str:
        """Rooms are configured by id (`!abc:server`) or alias (`#incident:server`)."""
        if not channel.startswith("#"):
            return channel
        if channel not in self._aliases:
            response = await self._call(
                lambda: self._client.room_resolve_alias(channel), channel, "resolve alias"
            )
            self._aliases[channel] = str(response.room_id)
        return self._aliases[channel]

    # Inbound ---------------------------------------------------------------------------------

    async def _on_sync(self, response: Any, position: SyncPosition) -> None:
        for room_id, info in response.rooms.invite.items():
            await self._guarded(self._on_invite(room_id, info.invite_state))
        catching_up = position.next_batch is None
        for room_id, info in response.rooms.join.items():
            room = self._client.rooms.get(room_id)
            if room is not None and room.encrypted and room_id not in position.warned_encrypted:
                await self._guarded(self._warn_encrypted(room_id, position))
            if catching_up:  # first start: earlier history is not for us to act on
                continue
            events = list(info.timeline.events)
            if info.timeline.limited and info.timeline.prev_batch:
                events = await self._missed(room_id, info.timeline.prev_batch, position) + events
            for event in after_own_join(events, self.config.user_id):
                await self._guarded(self._on_event(room, room_id, event, position))

    async def _guarded(self, work: Any) -> None:
        """One event's failure is logged and does not stop the others (or the sync position)."""
        try:
            await work
        except Exception:
            log.exception("matrix.event_failed")

    async def _missed(self, room_id: str, gap_start: str, position: SyncPosition) -> list[Any]:
        """Events the sync skipped after a long downtime: paged back to the saved position."""
        missed: list[Any] = []
        start: str | None = gap_start
        for _ in range(self.config.gap_pages):
            request = functools.partial(
                self._client.room_messages,
                room_id,
                start=start,
                end=position.next_batch,
                direction=MessageDirection.back,
                limit=100,
            )
            try:
                page = await self._call(request, room_id, "catch up")
            except DeliveryFailed as failure:
                log.error("matrix.gap_not_filled", room=room_id, reason=failure.reason)
                break
            missed[:0] = reversed(page.chunk)
            if not page.chunk or not page.end:
                break
            start = page.end
        else:
            log.error("matrix.gap_too_long", room=room_id, pages=self.config.gap_pages)
        return missed

    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        inviter = self._policy.inviter(invite_state)
        if inviter is None or not self._policy.allows(inviter):
            log.warning("matrix.invite_declined", room=room_id, inviter=inviter)
            await self._client.room_leave(room_id)
            return
        response = await self._call(lambda: self._client.join(room_id), room_id, "join")
        log.info("matrix.joined", room=response.room_id, inviter=inviter)

    async def _warn_encrypted(self, room_id: str, position: SyncPosition) -> None:
        position.warned_encrypted.append(room_id)  # saved with the position: said once
        content = render_content(Reply(lines=[ENCRYPTED_NOTICE]))
        await self._send(room_id, content, "encryption notice")
        log.warning("matrix.encrypted_room", room=room_id)

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > REMEMBERED_EVENTS:
            self._seen.popitem(last=False)
        return True

    async def _on_event(self, room: Any, room_id: str, event: Any, position: SyncPosition) -> None:
        sender = getattr(event, "sender", None)
        if sender is None or sender == self.config.user_id or not self._first_time(event.event_id):
            return
        if event.source.get("type") == "m.room.encrypted":
            if self._policy.allows(sender) and room_id not in position.warned_encrypted:
                await self._warn_encrypted(room_id, position)
            return
        if isinstance(event, ReactionEvent):
            await self._on_reaction(room, room_id, event)
            return
        # m.notice (other bots, ourselves) and emotes are other classes: never commands.
        if not isinstance(event, RoomMessageText) or is_edit(event):
            return
        text = command_text(event.body)
        if text is None:
            return
        if not self._policy.allows(sender):
            log.info("matrix.ignored_sender", room=room_id, sender=sender)
            return
        name = room.user_name(sender) if room is not None else None
        command = to_command(event, text, room_id, name)
        reply = await self._router.handle(command)
        content = as_reply(render_content(reply), event.event_id, command.thread)
        try:
            await self._send(room_id, content, "reply")
        except DeliveryFailed as failure:
            log.error("matrix.reply_failed", room=room_id, reason=failure.reason)

    async def _on_reaction(self, room: Any, room_id: str, event: Any) -> None:
        """✅ on a broadcast acknowledges it, as `ack <broadcast id>` would. Quiet when it
        works (the reaction is the visible answer); a refusal is answered on the broadcast."""
        if event.key not in ACK_REACTIONS or self.broadcasts is None:
            return
        if not self._policy.allows(event.sender):
            return
        broadcast_id = await self.broadcasts.broadcast_for_message(self.name, event.reacts_to)
        if broadcast_id is None:
            return
        name = room.user_name(event.sender) if room is not None else None
        reply = await self._router.handle(to_command(event, f"ack {broadcast_id}", room_id, name))
        if reply.outcome in ("error", "denied"):
            with contextlib.suppress(DeliveryFailed):
                await self._send(
                    room_id, as_reply(render_content(reply), event.reacts_to, None), "reply"
                )


def transaction_for(key: str | None) -> str | None:
    """A transaction id derived from an outbox key: a resend after a crash carries the same one,
    and the homeserver answers it with the event it already has instead of a second copy."""
    if key is None:
        return None
    return "lifeline-" + hashlib.sha256(key.encode()).hexdigest()[:32]
