"""A sync's events → Commands → answers. Rooms are handled concurrently (one slow room never holds
up another); within a room, commands run in order, and their answers go to the send budget at
once, so a sync is done when every command was recorded and every answer sent."""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import structlog
from nio import MegolmEvent, MessageDirection, ReactionEvent, RoomMessageText

from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Attachment
from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.inbound import command_text, is_edit, to_command
from bot.transports.matrix.render import as_reply, render_content
from bot.transports.matrix.rooms import RoomPolicy, after_own_join
from bot.transports.matrix.session import SyncPosition

log = structlog.get_logger(__name__)
# ✅ ✔️ 👍 (with or without the emoji variation selector) acknowledge a broadcast copy.
ACK_REACTIONS = frozenset({"✅", "✅\ufe0f", "✔", "✔️", "👍", "👍\ufe0f"})
CONFIRM_REACTION = "✅"
REMEMBERED_EVENTS = 2000
Call = Callable[..., Awaitable[Any]]


class BroadcastDirectory(Protocol):
    """Which broadcast a posted message carries (the store, once broadcasts exist)."""

    async def broadcast_for_message(self, transport: str, message_id: str) -> str | None: ...


class Outbound(Protocol):
    """What the receiver needs of the transport: answers, reactions and plain requests."""

    async def answer(self, room_id: str, content: dict[str, Any]) -> None: ...

    async def send_file(
        self, room_id: str, attachment: Attachment, relation: dict[str, Any] | None = None
    ) -> str: ...

    async def react(self, room_id: str, event_id: str, key: str) -> None: ...

    async def request(
        self, call: Any, room_id: str, action: str, accept: tuple[str, ...] = ()
    ) -> Any: ...


class Receiver:
    def __init__(
        self,
        config: MatrixConfig,
        router: Router,
        client: Callable[[], Any],
        outbound: Outbound,
        broadcasts: BroadcastDirectory | None,
    ) -> None:
        self.config = config
        self._router = router
        self._client = client
        self._out = outbound
        self.broadcasts = broadcasts
        self._policy = RoomPolicy(config.allowed_users, config.user_id)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._confirmed: set[str] = set()  # copies the bot already confirmed with a reaction
        self._requests: set[asyncio.Future[Any]] = set()

    async def on_sync(self, response: Any, position: SyncPosition) -> None:
        invited = response.rooms.invite.items()
        await asyncio.gather(
            *(self._guarded(self._on_invite(room, info.invite_state)) for room, info in invited)
        )
        if position.next_batch is None:  # first start: earlier history is not for us to act on
            return
        answers: list[asyncio.Task[None]] = []
        rooms = [
            self._room_events(room_id, info, position, answers)
            for room_id, info in response.rooms.join.items()
        ]
        await asyncio.gather(*(self._guarded(room) for room in rooms))
        await asyncio.gather(*answers)

    async def _room_events(
        self, room_id: str, info: Any, position: SyncPosition, answers: list[asyncio.Task[None]]
    ) -> None:
        room = self._client().rooms.get(room_id)
        events = list(info.timeline.events)
        if info.timeline.limited and info.timeline.prev_batch:
            events = await self._missed(room_id, info.timeline.prev_batch, position) + events
        for event in after_own_join(events, self.config.user_id):
            answer = await self._guarded(self._on_event(room, room_id, event))
            if answer is not None:
                answers.append(asyncio.ensure_future(self._guarded(answer)))

    async def _guarded(self, work: Awaitable[Any]) -> Any:
        """One event's failure is logged and does not stop the others (or the sync position)."""
        try:
            return await work
        except Exception:
            log.exception("matrix.event_failed")
            return None

    async def _missed(self, room_id: str, gap_start: str, position: SyncPosition) -> list[Any]:
        """Events the sync skipped after a long downtime: paged back to the saved position."""
        missed: list[Any] = []
        start: str | None = gap_start
        for _ in range(self.config.gap_pages):
            request = functools.partial(
                self._client().room_messages,
                room_id,
                start=start,
                end=position.next_batch,
                direction=MessageDirection.back,
                limit=100,
            )
            try:
                page = await self._out.request(request, room_id, "catch up")
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
        client = self._client()
        if inviter is None or not self._policy.allows(inviter):
            log.warning("matrix.invite_declined", room=room_id, inviter=inviter)
            await client.room_leave(room_id)
            return
        response = await self._out.request(lambda: client.join(room_id), room_id, "join")
        log.info("matrix.joined", room=response.room_id, inviter=inviter)

    def _first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > REMEMBERED_EVENTS:
            self._seen.popitem(last=False)
        return True

    async def _on_event(self, room: Any, room_id: str, event: Any) -> Awaitable[None] | None:
        """Handles the event; returns the sending of its answer, if it has one."""
        sender = getattr(event, "sender", None)
        if sender is None or sender == self.config.user_id or not self._first_time(event.event_id):
            return None
        if isinstance(event, MegolmEvent):  # encrypted, and no key for it (yet)
            self._undecryptable(room_id, event)
            return None
        if isinstance(event, ReactionEvent):
            return await self._on_reaction(room, room_id, event)
        # m.notice (other bots, ourselves) and emotes are other classes: never commands.
        if not isinstance(event, RoomMessageText) or is_edit(event):
            return None
        text = command_text(event.body)
        if text is None:
            return None
        if not self._policy.allows(sender):
            log.info("matrix.ignored_sender", room=room_id, sender=sender)
            return None
        name = room.user_name(sender) if room is not None else None
        command = to_command(event, text, room_id, name)
        reply = await self._router.handle(command)
        content = as_reply(render_content(reply), event.event_id, command.thread)
        return self._answer(room_id, content, reply.attachments)

    async def _answer(
        self, room_id: str, content: dict[str, Any], attachments: Sequence[Attachment] = ()
    ) -> None:
        try:
            await self._out.answer(room_id, content)
            for attachment in attachments:  # an export or report: the files, in reply too
                await self._out.send_file(room_id, attachment, content["m.relates_to"])
        except DeliveryFailed as failure:
            log.error("matrix.reply_failed", room=room_id, reason=failure.reason)

    def _undecryptable(self, room_id: str, event: Any) -> None:
        """Logged, and the key asked for from the sender's devices (it may arrive later)."""
        log.warning("matrix.undecryptable", room=room_id, sender=event.sender,
                    session_id=event.session_id, device_id=event.device_id)  # fmt: skip
        client = self._client()
        if client.olm is not None and event.session_id not in client.outgoing_key_requests:
            request = asyncio.ensure_future(self._guarded(client.request_room_key(event)))
            self._requests.add(request)
            request.add_done_callback(self._requests.discard)

    async def _on_reaction(self, room: Any, room_id: str, event: Any) -> Awaitable[None] | None:
        """✅ 👍 ✔️ on a broadcast acknowledge it, as `ack <broadcast id>` would. The bot confirms
        with its own ✅ on the copy (once per copy); a refusal is answered on the broadcast."""
        if event.key not in ACK_REACTIONS or self.broadcasts is None:
            return None
        if not self._policy.allows(event.sender):
            return None
        broadcast_id = await self.broadcasts.broadcast_for_message("matrix", event.reacts_to)
        if broadcast_id is None:
            return None
        name = room.user_name(event.sender) if room is not None else None
        reply = await self._router.handle(to_command(event, f"ack {broadcast_id}", room_id, name))
        if reply.outcome in ("error", "denied"):
            return self._answer(room_id, as_reply(render_content(reply), event.reacts_to, None))
        if event.reacts_to in self._confirmed:
            return None
        self._confirmed.add(event.reacts_to)
        return self._confirm(room_id, event.reacts_to)

    async def _confirm(self, room_id: str, event_id: str) -> None:
        try:
            await self._out.react(room_id, event_id, CONFIRM_REACTION)
        except DeliveryFailed as failure:
            log.warning("matrix.not_confirmed", room=room_id, reason=failure.reason)
