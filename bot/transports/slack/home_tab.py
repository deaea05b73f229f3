"""The App Home tab, kept current: published when someone opens it, and re-published (coalesced,
at most once per interval) for everyone who opened it recently when the board or a broadcast
changes. Who opened it recently is kept in the store with a time to live, shared by replicas."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import structlog

from bot.dispatch.context import Context
from bot.domain.broadcast import Broadcast
from bot.domain.delivery import DeliveryFailed
from bot.domain.department_state import effective_state
from bot.domain.events import (
    BoardChanged,
    BroadcastAcked,
    BroadcastSent,
    Event,
    IncidentClosed,
    IncidentOpened,
)
from bot.domain.models import CheckIn, Incident
from bot.domain.reply import Reply
from bot.domain.timefmt import format_time
from bot.services.board import build_board
from bot.services.coalesced_edits import CoalescedEdits
from bot.transports.slack.delivery import SlackDelivery
from bot.transports.slack.home_view import SHOWN_BROADCASTS, HomeContent, home_view
from bot.views.board import incident_label

log = structlog.get_logger(__name__)
SURFACE = "slack-home"
NOTICE_SECONDS = 60.0
EVENTS = (BoardChanged, IncidentOpened, IncidentClosed, BroadcastSent, BroadcastAcked)


@dataclass(frozen=True)
class HomeSettings:
    keep: timedelta = timedelta(minutes=30)  # an opener counts as watching for this long
    interval: float = 2.0  # least seconds between two re-publish rounds
    audience: int = 200  # at most this many recent openers are re-published per round


class HomeTab:
    def __init__(self, context: Context, delivery: SlackDelivery, settings: HomeSettings) -> None:
        self._context = context
        self._delivery = delivery
        self._settings = settings
        self._edits = CoalescedEdits(self._republish, settings.interval)
        # The answer to someone's last tap stays on their tab through the re-publish rounds that
        # the tap itself sets off (a check-in changes the board), for a minute.
        self._notices: dict[str, tuple[Reply, float]] = {}

    async def opened(self, user_id: str) -> None:
        people = self._context.store.people
        await people.saw(SURFACE, user_id, self._context.now(), self._settings.keep)
        await self.publish(user_id)

    async def choose_department(self, user_id: str, dept_id: str) -> None:
        if dept_id not in {d.id for d in self._context.facility.departments}:
            return  # not an option the tab offered: nothing is stored
        await self._context.store.people.choose_department(user_id, dept_id)
        await self.publish(user_id)

    async def publish(self, user_id: str, notice: Reply | None = None) -> None:
        if notice is not None:
            self._notices[user_id] = (notice, time.monotonic() + NOTICE_SECONDS)
        shared = await self._shared()
        await self._publish(user_id, shared)

    async def on_event(self, event: Event) -> None:
        self._edits.request(SURFACE)

    async def settle(self) -> None:
        await self._edits.settle()

    async def _republish(self, _key: str) -> None:
        ctx = self._context
        viewers = await ctx.store.people.viewers(
            SURFACE, ctx.now(), self._settings.keep, self._settings.audience
        )
        if not viewers:
            return
        shared = await self._shared()
        for user_id in viewers:  # one at a time: views.publish is rate limited per workspace
            try:
                await self._publish(user_id, shared)
            except DeliveryFailed:
                continue  # logged by the delivery; the others still get theirs

    async def _shared(self) -> _Shared:
        ctx = self._context
        now = ctx.now()
        incident = await ctx.store.open_incident()
        board = await build_board(ctx.store, ctx.facility, now)
        latest = await ctx.store.latest_checkins([d.id for d in ctx.facility.departments])
        broadcasts = await ctx.store.broadcasts.recent(limit=SHOWN_BROADCASTS)
        return _Shared(incident, board, latest, tuple(broadcasts))

    def _notice(self, user_id: str) -> Reply | None:
        now = time.monotonic()
        for user, (_, until) in list(self._notices.items()):
            if until < now:
                del self._notices[user]
        kept = self._notices.get(user_id)
        return kept[0] if kept else None

    async def _publish(self, user_id: str, shared: _Shared) -> None:
        ctx = self._context
        dept_id = await ctx.store.people.department_of(user_id)
        names = {d.id: d for d in ctx.facility.departments}
        dept = names.get(dept_id) if dept_id else None
        content = HomeContent(
            facility=ctx.facility,
            incident_line=incident_label(shared.incident),
            department=dept,
            department_state=self._state_line(shared, dept.id) if dept else "",
            broadcasts=shared.broadcasts,
            board=shared.board,
            notice=self._notice(user_id),
        )
        view = home_view(content).to_dict()
        await self._delivery.call("views.publish", user_id=user_id, view=view)

    def _state_line(self, shared: _Shared, dept_id: str) -> str:
        ctx = self._context
        now = ctx.now()
        latest = shared.latest.get(dept_id)
        state, stale = effective_state(latest, shared.incident, now, ctx.facility.checkin_interval)
        if latest is None or state.value == "unknown":
            return "No check-in this period yet."
        when = format_time(latest.at, ctx.facility.tz, now)
        note = f" — {latest.note}" if latest.note else ""
        shown = state.value.upper() + (" (stale)" if stale else "")
        return f"{shown}{note} ({latest.actor.name}, {when})"


@dataclass(frozen=True)
class _Shared:
    """What every viewer's tab shows alike, read once per round."""

    incident: Incident | None
    board: Reply
    latest: Mapping[str, CheckIn]
    broadcasts: tuple[Broadcast, ...]
