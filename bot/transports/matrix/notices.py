"""What the incident commander must hear about the homeserver: the bot is being rate-limited
(once per incident), or it lacks the power level to pin or to ping `@room` in rooms it posts to
(each room once). Said in the incident room, mentioning the commander when they are on Matrix."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

from bot.domain.delivery import DeliveryFailed, MessageRef
from bot.domain.models import Incident
from bot.domain.reply import Reply
from bot.transports.matrix.render import mentioning, render_content

log = structlog.get_logger(__name__)
Post = Callable[[str, dict[str, Any]], Awaitable[None]]
GATHER_SECONDS = 1.0  # rooms found lacking power within this are named in one notice
POWER_FIX = "50 (Moderator)"


class IncidentDirectory(Protocol):
    """Which incident is open and where its board is (the store)."""

    async def open_incident(self) -> Incident | None: ...

    async def board_refs(self, incident_id: str) -> list[MessageRef]: ...


def exempt_call(user_id: str) -> str:
    return f"POST /_synapse/admin/v1/users/{user_id}/override_ratelimit"


def throttled_reply(user_id: str) -> Reply:
    return Reply(
        title="Lifeline is being rate-limited by the Matrix homeserver",
        lines=[
            "The homeserver answers M_LIMIT_EXCEEDED, so answers, broadcast copies and board "
            "updates are queued and sent as fast as it allows (answers first). Nothing is "
            "dropped, but people may wait.",
            f"Fix: ask the homeserver admin to exempt {user_id} from rate limits — on Synapse, "
            f'{exempt_call(user_id)} with {{"messages_per_second": 0, "burst_count": 0}}.',
        ],
    )


def lacking_power_reply(user_id: str, pin: list[str], ping: list[str]) -> Reply:
    lines = []
    if ping:
        lines.append("Urgent broadcasts can't notify everyone (@room) in: " + ", ".join(ping))
    if pin:
        lines.append("The board can't be pinned in: " + ", ".join(pin))
    lines.append(
        f"Fix: in each of these rooms, give {user_id} power level {POWER_FIX} "
        "(Room settings → Roles & Permissions)."
    )
    return Reply(title="Lifeline lacks permissions in some rooms", lines=lines)


class CommanderNotices:
    def __init__(
        self,
        user_id: str,
        incidents: IncidentDirectory | None,
        incident_room: Callable[[], Awaitable[str | None]],
        post: Post,
    ) -> None:
        self._user_id = user_id
        self._incidents = incidents
        self._incident_room = incident_room
        self._post = post
        self._told_throttled: set[str] = set()
        self._reported_rooms: set[tuple[str, str]] = set()
        self._pending: dict[str, set[str]] = {"pin": set(), "ping": set()}
        self._tasks: set[asyncio.Task[None]] = set()

    def throttled(self) -> None:
        self._spawn(self._tell_throttled())

    def lacking_power(self, room_id: str, what: str) -> None:
        """`what` is `pin` or `ping`; each (room, what) is reported once."""
        if (room_id, what) in self._reported_rooms:
            return
        self._reported_rooms.add((room_id, what))
        first = not any(self._pending.values())
        self._pending[what].add(room_id)
        if first:
            self._spawn(self._tell_lacking_power())

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, work: Awaitable[None]) -> None:
        try:
            await work
        except DeliveryFailed as failure:
            log.error("matrix.notice_not_delivered", room=failure.channel, reason=failure.reason)
        except Exception:
            log.exception("matrix.notice_failed")

    async def _tell_throttled(self) -> None:
        """Called on every M_LIMIT_EXCEEDED: the first one with an incident open and a room to
        say it in (its board may still be queued) is told."""
        incident = await self._incidents.open_incident() if self._incidents else None
        if incident is None or incident.id in self._told_throttled:
            return
        room = await self._room(incident)
        if room is None or incident.id in self._told_throttled:
            return
        self._told_throttled.add(incident.id)
        log.warning("matrix.throttled", user_id=self._user_id, fix=exempt_call(self._user_id),
                    incident=incident.id)  # fmt: skip
        await self._post(room, self._addressed(incident, throttled_reply(self._user_id)))

    async def _tell_lacking_power(self) -> None:
        await asyncio.sleep(GATHER_SECONDS)
        pin, ping = sorted(self._pending["pin"]), sorted(self._pending["ping"])
        self._pending = {"pin": set(), "ping": set()}
        log.warning("matrix.lacking_power", pin=pin, ping=ping)
        incident = await self._incidents.open_incident() if self._incidents else None
        await self._tell(incident, lacking_power_reply(self._user_id, pin, ping))

    async def _tell(self, incident: Incident | None, reply: Reply) -> None:
        room = await self._room(incident)
        if room is None:
            log.warning("matrix.notice_nowhere", title=reply.title)
            return
        await self._post(room, self._addressed(incident, reply))

    def _addressed(self, incident: Incident | None, reply: Reply) -> dict[str, Any]:
        """The notice, mentioning the commander when they are on Matrix."""
        commander = incident.commander if incident else None
        content = render_content(reply)
        if commander is not None and commander.transport == "matrix":
            content = mentioning(content, commander.id, commander.name)
        return content

    async def _room(self, incident: Incident | None) -> str | None:
        configured = await self._incident_room()
        if configured:
            return configured
        if incident is None or self._incidents is None:
            return None
        for ref in await self._incidents.board_refs(incident.id):
            if ref.transport == "matrix":
                return ref.channel
        return None
