"""Slash commands, @mentions and button clicks: each becomes a Command for the router, and the
Reply goes back the way Slack expects (the ack, response_url, a thread, an edit in place)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from bot.dispatch.router import Router
from bot.domain.delivery import DeliveryFailed
from bot.domain.reply import Reply
from bot.transports.slack.blocks import SlackMessage, escape, render, render_one
from bot.transports.slack.commands import SlashCommand, command_text
from bot.transports.slack.delivery import SlackDelivery
from bot.transports.slack.forms import Forms
from bot.transports.slack.inbound import (
    CommandBuilder,
    DeliveryLedger,
    after_bot_mention,
    thread_of,
)
from bot.transports.slack.modals import BROADCAST, CHECKIN, INCIDENT, Origin

log = structlog.get_logger(__name__)
WORKING = "Working on it…"
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class Interactions:
    def __init__(
        self,
        router: Router,
        slash_commands: dict[str, SlashCommand],
        commands: CommandBuilder,
        ledger: DeliveryLedger,
        delivery: SlackDelivery,
        spawn: Spawn,
        ack_budget: float,
        forms: Forms,
    ) -> None:
        self.router = router
        self.ack_budget = ack_budget  # answer in the ack if the command is done this fast
        self._slash = slash_commands
        self._commands = commands
        self._ledger = ledger
        self.delivery = delivery
        self._spawn = spawn
        self._forms = forms

    async def slash(self, ack: Any, body: dict[str, Any]) -> None:
        name = str(body.get("command", ""))
        slash = self._slash.get(name)
        if slash is None:
            known = ", ".join(self._slash)
            text = f"Lifeline has no {name} command. Its commands are {known}."
            await ack(response_type="ephemeral", text=escape(text))
            return
        form = form_for(slash, str(body.get("text", "")))
        if form is not None:  # ack at once; the view opens in a task, before any other work
            origin = Origin(body.get("channel_id"), body.get("response_url"))
            trigger, user = str(body.get("trigger_id", "")), str(body.get("user_id", ""))
            self._spawn(self._forms.open(form, trigger, user, origin))
            await ack()
            return
        command = await self._commands.build(
            f"slack-{body.get('trigger_id') or body.get('command_ts') or time.time_ns()}",
            str(body.get("user_id", "")),
            command_text(slash, str(body.get("text", ""))),
            fallback_name=str(body.get("user_name", "")),
            channel=body.get("channel_id"),
        )
        url = str(body.get("response_url", ""))
        task = asyncio.create_task(self.router.handle(command))
        done, _ = await asyncio.wait({task}, timeout=self.ack_budget)
        if not done:  # slow: acknowledge now, answer through response_url when done
            await ack(response_type="ephemeral", text=WORKING)
            self._spawn(self._answer_late(task, url, command.channel or "-"))
            return
        reply = task.result()
        messages = render(reply)
        kind = _response_type(reply)
        await ack(response_type=kind, blocks=messages[0].blocks, text=messages[0].text)
        if len(messages) > 1:
            self._spawn(self._respond_all(url, command.channel or "-", messages[1:], kind))
        self._upload_attachment(reply, command.channel)

    async def _answer_late(self, task: asyncio.Task[Reply], url: str, channel: str) -> None:
        reply = await task
        await self._respond_all(url, channel, render(reply), _response_type(reply))
        self._upload_attachment(reply, channel)

    def _upload_attachment(
        self, reply: Reply, channel: str | None, thread: str | None = None
    ) -> None:
        """An export or report goes to the channel it was asked in (a slash command's answer
        itself can carry no file)."""
        if reply.attachments and channel and channel != "-":
            self._spawn(self._upload_all(channel, reply, thread))

    async def _upload_all(self, channel: str, reply: Reply, thread: str | None) -> None:
        for attachment in reply.attachments:
            await self.delivery.upload(channel, attachment, thread=thread)

    async def _respond_all(
        self, url: str, channel: str, messages: list[SlackMessage], kind: str
    ) -> None:
        for message in messages:
            payload = {"response_type": kind, "replace_original": False, **message.payload()}
            await self.delivery.respond(url, channel, payload)

    async def mention(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        bot_user_id: str | None,
        retry: str | None = None,
    ) -> None:
        if event.get("bot_id") or not event.get("user"):
            return  # another bot (or this one): never answer, never loop
        event_id = str(body.get("event_id") or f"{event.get('channel')}-{event.get('ts')}")
        # A retry whose first delivery never reached us is answered; any other is not.
        if not await self._ledger.first_delivery("slack", event_id):
            log.info("slack.event_repeated", event_id=event_id, retry=retry)
            return
        self._spawn(self._answer_mention(event_id, event, bot_user_id))

    async def _answer_mention(
        self, event_id: str, event: dict[str, Any], bot_user_id: str | None
    ) -> None:
        channel = str(event.get("channel", ""))
        thread = thread_of(event) or str(event.get("ts", ""))
        user = str(event.get("user", ""))
        text = after_bot_mention(str(event.get("text", "")), bot_user_id)
        command = await self._commands.build(
            f"slack-{event_id}", user, text, channel=channel, thread=thread
        )
        reply = await self.router.handle(command)
        method = "chat.postEphemeral" if reply.ephemeral else "chat.postMessage"
        extra = {"user": user} if reply.ephemeral else {}
        for message in render(reply):
            await self.delivery.call(
                method, channel=channel, thread_ts=thread, **extra, **message.payload()
            )
        self._upload_attachment(reply, channel, thread)

    async def click(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user = body.get("user") or {}
        container = body.get("container") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id", ""))
        source = body.get("message") or {}
        thread = thread_of(source)
        click_id = body.get("trigger_id") or f"{action.get('action_ts')}-{user.get('id')}"
        command = await self._commands.build(
            f"slack-click-{click_id}",
            str(user.get("id", "")),
            str(action.get("value", "")),
            fallback_name=str(user.get("username") or user.get("name") or ""),
            channel=channel,
            thread=thread,
        )
        reply = await self.router.handle(command)
        if container.get("type") == "view":  # a button on the Home tab: the answer shows there
            await self._forms.answer(reply, Origin(home=True), command.actor.id)
            return
        url = str(body.get("response_url", ""))
        if reply.edit_source:
            await self._replace_source(container, channel, url, render_one(reply))
            return
        self._upload_attachment(reply, channel, thread)
        if _response_type(reply) == "ephemeral":
            await self._respond_all(url, channel, render(reply), "ephemeral")
            return
        for message in render(reply):
            await self.delivery.call(
                "chat.postMessage", channel=channel, thread_ts=thread, **message.payload()
            )

    async def _replace_source(
        self, container: dict[str, Any], channel: str, url: str, message: SlackMessage
    ) -> None:
        """chat.update for a message in the channel; response_url for an ephemeral one (and when
        chat.update is refused, e.g. the message is not editable by the bot)."""
        replace = {"replace_original": True, **message.payload()}
        if container.get("is_ephemeral") or not container.get("message_ts"):
            await self.delivery.respond(url, channel, replace)
            return
        try:
            await self.delivery.call(
                "chat.update", channel=channel, ts=container["message_ts"], **message.payload()
            )
        except DeliveryFailed:
            if not url:
                raise
            await self.delivery.respond(url, channel, replace)


def _response_type(reply: Reply) -> str:
    """Confirmations of what was recorded are for everyone; answers to questions, help, errors
    and refusals only for the person who asked."""
    return "in_channel" if reply.outcome == "recorded" and not reply.ephemeral else "ephemeral"


def form_for(slash: SlashCommand, text: str) -> str | None:
    """`/checkin`, `/broadcast` with nothing after them and `/incident start` with no title open
    forms; everything else is the typed command as before."""
    words = text.split()
    if slash.word == "status" and not words:
        return CHECKIN
    if slash.word == "broadcast" and not words:
        return BROADCAST
    if slash.word == "incident" and [w.lower() for w in words] in (
        ["start"],
        ["open"],
        ["declare"],
    ):
        return INCIDENT
    return None
