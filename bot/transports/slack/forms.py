"""Forms, shortcuts and the Home tab's taps: views opened at once from a trigger, submissions run
as the typed command they stand for, and the answer sent back where the form was opened."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import structlog
from slack_sdk.models.views import View

from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Reply
from bot.transports.slack import form_answers
from bot.transports.slack.blocks import render
from bot.transports.slack.delivery import SlackDelivery
from bot.transports.slack.home_tab import HomeTab
from bot.transports.slack.inbound import CommandBuilder
from bot.transports.slack.modals import (
    BROADCAST,
    BROADCAST_SEND,
    CHECKIN,
    INCIDENT,
    Origin,
    broadcast_modal,
    broadcast_preview,
    checkin_modal,
    incident_modal,
)

log = structlog.get_logger(__name__)
Spawn = Callable[[Coroutine[Any, Any, Any]], None]
Ack = Callable[..., Coroutine[Any, Any, Any]]
COULD_NOT_OPEN = "Slack did not open the form in time. Type the command instead, e.g. {usage}."
USAGES = {
    CHECKIN: "/checkin pharmacy down cabinets on override",
    BROADCAST: "/broadcast normal Briefing at 14:00",
    INCIDENT: "/incident start Teams outage sev 2",
}
NO_TEXT = "That message has no text to add to the log."


class Forms:
    def __init__(
        self,
        router: Router,
        commands: CommandBuilder,
        delivery: SlackDelivery,
        home: HomeTab,
        spawn: Spawn,
        ack_budget: float,
        lookup_budget: float = 0.25,
    ) -> None:
        self._router = router
        self._commands = commands
        self._delivery = delivery
        self._home = home
        self._spawn = spawn
        self._ack_budget = ack_budget
        self._lookup_budget = lookup_budget  # a pre-set department is not worth a lost trigger

    # Opening ---------------------------------------------------------------------------------

    async def open(
        self, form: str, trigger_id: str, user_id: str, origin: Origin, department: str = ""
    ) -> None:
        """views.open first: a trigger_id is good for 3 s. The one lookup before it (the
        person's department) is bounded, and skipped when it is slow."""
        facility = self._router.context.facility
        if form == CHECKIN:
            view = checkin_modal(facility, origin, department or await self._department(user_id))
        elif form == BROADCAST:
            view = broadcast_modal(origin)
        else:
            view = incident_modal(origin)
        try:
            await self._delivery.call("views.open", trigger_id=trigger_id, view=view.to_dict())
        except DeliveryFailed as failure:
            log.warning("slack.form_not_opened", form=form, reason=failure.reason)
            if origin.response_url:
                text = COULD_NOT_OPEN.format(usage=USAGES[form])
                payload = {"response_type": "ephemeral", "text": text}
                await self._delivery.respond(origin.response_url, origin.channel or "-", payload)

    async def _department(self, user_id: str) -> str | None:
        people = self._router.context.store.people
        try:
            return await asyncio.wait_for(people.department_of(user_id), self._lookup_budget)
        except Exception:  # slow or unreachable: the form opens without a pre-set department
            return None

    # Submitting ------------------------------------------------------------------------------

    async def submit(self, ack: Ack, body: Mapping[str, Any]) -> None:
        view = body.get("view") or {}
        user = body.get("user") or {}
        user_id = str(user.get("id", ""))
        callback = str(view.get("callback_id", ""))
        origin, extra = Origin.decode(str(view.get("private_metadata") or ""))
        values = (view.get("state") or {}).get("values") or {}
        facility = self._router.context.facility
        if callback == CHECKIN:
            filled = form_answers.checkin(values, facility)
        elif callback == BROADCAST:
            filled = form_answers.broadcast(values)
            if not filled.errors:
                await self._preview(ack, origin, filled)
                return
        elif callback == BROADCAST_SEND:
            filled = form_answers.broadcast_send(extra.get("p", ""), extra.get("t", ""))
        elif callback == INCIDENT:
            filled = form_answers.incident(values)
        else:
            await ack()
            return
        if filled.errors:
            await self._refuse(ack, callback, origin, extra, filled.errors)
            return
        command = await self._commands.build(
            f"slack-view-{view.get('id') or body.get('trigger_id')}",
            user_id,
            filled.line,
            fallback_name=str(user.get("username") or user.get("name") or ""),
            channel=origin.channel,
        )
        task = asyncio.create_task(self._router.handle(command))
        done, _ = await asyncio.wait({task}, timeout=self._ack_budget)
        if not done:  # slow: close the form now, answer where it was opened when done
            await ack()
            self._spawn(self._answer_late(task, origin, user_id))
            return
        reply = task.result()
        if reply.outcome in ("error", "denied"):
            said = " ".join(reply.lines)
            block = filled.text_block if filled.text else filled.first_block
            await self._refuse(ack, callback, origin, extra, {block: said})
            return
        await ack()
        self._spawn(self.answer(reply, origin, user_id))

    async def _preview(self, ack: Ack, origin: Origin, filled: form_answers.Filled) -> None:
        priority = filled.line.split(" ", 2)[1]
        preview = self._preview_view(origin, priority, filled.text, None)
        if preview is None:
            errors = {"text": "That message is too long for the form; shorten it a little."}
            await ack(response_action="errors", errors=errors)
            return
        await ack(response_action="update", view=preview.to_dict())

    def _preview_view(
        self, origin: Origin, priority: str, text: str, problem: str | None
    ) -> View | None:
        channels = self._router.context.facility.channels
        slack = list(channels.broadcast_on("slack"))
        incident = channels.incident_on("slack")
        for channel in (incident, origin.channel):
            if channel and channel not in slack:
                slack.append(channel)
        elsewhere = len(channels.broadcast_on("matrix")) + (
            1 if channels.incident_on("matrix") else 0
        )
        return broadcast_preview(origin, priority, text, slack, elsewhere, problem)

    async def _refuse(
        self,
        ack: Ack,
        callback: str,
        origin: Origin,
        extra: Mapping[str, str],
        errors: Mapping[str, str],
    ) -> None:
        """Inline, under the field; a preview has no fields, so it shows the answer on top."""
        errors = {block: said[:500] for block, said in errors.items()}
        if callback != BROADCAST_SEND:
            await ack(response_action="errors", errors=errors)
            return
        said = " ".join(errors.values())
        preview = self._preview_view(origin, extra.get("p", ""), extra.get("t", ""), said)
        if preview is None:
            await ack()
            return
        await ack(response_action="update", view=preview.to_dict())

    async def _answer_late(self, task: asyncio.Task[Reply], origin: Origin, user: str) -> None:
        await self.answer(await task, origin, user)

    async def answer(self, reply: Reply, origin: Origin, user_id: str) -> None:
        """On the Home tab when it came from there; in the channel through the slash command's
        response_url; otherwise (a global shortcut, or the url expired) in the app's DM."""
        if origin.home:
            await self._home.publish(user_id, notice=reply)
            return
        messages = render(reply)
        if origin.response_url:
            kind = (
                "in_channel" if reply.outcome == "recorded" and not reply.ephemeral else "ephemeral"
            )
            try:
                for message in messages:
                    payload = {
                        "response_type": kind,
                        "replace_original": False,
                        **message.payload(),
                    }
                    await self._delivery.respond(
                        origin.response_url, origin.channel or "-", payload
                    )
                return
            except DeliveryFailed:
                pass  # the url lasts 30 minutes and 5 answers; the DM always works
        for message in messages:
            await self._delivery.call("chat.postMessage", channel=user_id, **message.payload())

    # The message shortcut --------------------------------------------------------------------

    async def add_to_log(self, body: Mapping[str, Any]) -> None:
        """ "Add to incident log": the message's text as a note, with a link to it."""
        user = body.get("user") or {}
        user_id = str(user.get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        message = body.get("message") or {}
        ts = str(message.get("ts", ""))
        text = str(message.get("text") or "").strip()
        origin = Origin(
            channel=channel or None, response_url=str(body.get("response_url") or "") or None
        )
        if not text:
            await self.answer(Reply.error(NO_TEXT), origin, user_id)
            return
        link = await self._permalink(channel, ts)
        command = await self._commands.build(
            f"slack-note-{channel}-{ts}-{user_id}",
            user_id,
            f"note {text}",
            fallback_name=str(user.get("username") or user.get("name") or ""),
            channel=channel or None,
            reference=link,
        )
        reply = await self._router.handle(command)
        await self.answer(reply.model_copy(update={"ephemeral": True}), origin, user_id)

    async def _permalink(self, channel: str, ts: str) -> str | None:
        if not channel or not ts:
            return None
        try:
            found = await self._delivery.call("chat.getPermalink", channel=channel, message_ts=ts)
        except DeliveryFailed:
            return None  # the note is still worth keeping; the log says where it came from
        link = found.get("permalink")
        return link if isinstance(link, str) and link.startswith("https://") else None
