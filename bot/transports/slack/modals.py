"""The forms Lifeline opens in Slack (check-in, broadcast, incident start), built with slack_sdk's
view models. Every form carries where it was opened from in `private_metadata`, so the answer
goes back there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.broadcast import PRIORITY_LABELS
from bot.domain.facility import FacilityConfig
from bot.domain.models import REPORTABLE_STATES
from bot.domain.parsing import MAX_NOTE_CHARS
from bot.transports.slack.blocks import clip, escape, fit

CHECKIN = "lifeline-checkin"
BROADCAST = "lifeline-broadcast"
BROADCAST_SEND = "lifeline-broadcast-send"
INCIDENT = "lifeline-incident"
GLOBAL_CHECKIN = "lifeline-checkin-anywhere"  # shortcut callback ids, as the manifest declares
ADD_TO_LOG = "lifeline-add-to-log"
MAX_TITLE_CHARS = 200  # handlers/incident.py keeps the same limit
MAX_METADATA_CHARS = 3000  # Slack's limit on private_metadata
MAX_OPTIONS = 100  # per select, and per option group
STATE_LABELS = {"up": "Up", "partial": "Partial", "down": "Down", "na": "N/A"}
PRIORITY_HINTS = {
    "urgent": "Urgent — pings everyone (@channel)",
    "normal": "Normal",
    "info": "Info — no notification",
}


@dataclass(frozen=True)
class Origin:
    """Where a form was opened: a channel (with the slash command's response_url), the Home
    tab, or nowhere in particular (a global shortcut: the answer goes to the app's DM)."""

    channel: str | None = None
    response_url: str | None = None
    home: bool = False

    def encode(self, **extra: str) -> str:
        data = {"c": self.channel, "u": self.response_url, "h": self.home, **extra}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def decode(cls, metadata: str) -> tuple[Origin, dict[str, str]]:
        """A form's metadata; anything unreadable is treated as no origin at all."""
        try:
            data = json.loads(metadata) if metadata else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        channel, url = data.pop("c", None), data.pop("u", None)
        home = data.pop("h", False) is True
        extra = {k: v for k, v in data.items() if isinstance(v, str)}
        return cls(_str(channel), _str(url), home), extra


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)


def _view(callback: str, title: str, submit: str, blocks: list[Block], metadata: str) -> View:
    return View(
        type="modal",
        callback_id=callback,
        title=_plain(title),
        submit=_plain(submit),
        close=_plain("Cancel"),
        blocks=blocks,
        private_metadata=metadata,
    )


def checkin_modal(facility: FacilityConfig, origin: Origin, department: str | None) -> View:
    options = [Option(value=dept.id, label=clip(dept.name, 75)) for dept in facility.departments]
    initial = next((o for o in options if o.value == department), None)
    select: dict[str, Any] = {"action_id": "department", "initial_option": initial}
    if len(options) > MAX_OPTIONS:
        groups = [options[i : i + MAX_OPTIONS] for i in range(0, len(options), MAX_OPTIONS)]
        select["option_groups"] = [
            OptionGroup(label=clip(f"{g[0].label} – {g[-1].label}", 75), options=g)
            for g in groups[:MAX_OPTIONS]
        ]
    else:
        select["options"] = options
    states = [Option(value=s.value, label=STATE_LABELS[s.value]) for s in REPORTABLE_STATES]
    blocks: list[Block] = [
        InputBlock(
            block_id="department",
            label=_plain("Department"),
            element=StaticSelectElement(placeholder=_plain("Find your department"), **select),
        ),
        InputBlock(
            block_id="state",
            label=_plain("State"),
            element=RadioButtonsElement(action_id="state", options=states),
        ),
        InputBlock(
            block_id="note",
            label=_plain("Note"),
            optional=True,
            element=PlainTextInputElement(
                action_id="note",
                multiline=True,
                max_length=MAX_NOTE_CHARS,
                placeholder=_plain("What works, what does not (no patient details)"),
            ),
        ),
    ]
    return _view(CHECKIN, "Check in", "Check in", blocks, origin.encode())


def broadcast_modal(origin: Origin, priority: str = "normal", text: str = "") -> View:
    options = [Option(value=p, label=PRIORITY_HINTS[p]) for p in PRIORITY_LABELS]
    initial = next(o for o in options if o.value == priority)
    blocks: list[Block] = [
        InputBlock(
            block_id="priority",
            label=_plain("Priority"),
            element=RadioButtonsElement(
                action_id="priority", options=options, initial_option=initial
            ),
        ),
        InputBlock(
            block_id="text",
            label=_plain("Message"),
            element=PlainTextInputElement(
                action_id="text",
                multiline=True,
                max_length=MAX_NOTE_CHARS,
                initial_value=text or None,
                placeholder=_plain("What every channel should read (no patient details)"),
            ),
        ),
    ]
    return _view(BROADCAST, "Broadcast", "Preview", blocks, origin.encode())


def broadcast_preview(
    origin: Origin,
    priority: str,
    text: str,
    channels: list[str],
    elsewhere: int,
    problem: str | None = None,
) -> View | None:
    """The message as it will go out, and where; None if it cannot ride in the form's metadata."""
    metadata = origin.encode(p=priority, t=text)
    if len(metadata) > MAX_METADATA_CHARS or priority not in PRIORITY_LABELS:
        return None
    where = ", ".join(f"<#{channel}>" for channel in channels) or "no Slack channel"
    more = f" and {elsewhere} room(s) on other transports" if elsewhere else ""
    heading = f"*{PRIORITY_LABELS[priority]}*"
    blocks: list[Block] = []
    if problem:  # the router's answer to the last Send: nothing was sent
        said = f":x: {escape(problem)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(said, 3000))))
    blocks.append(
        SectionBlock(text=MarkdownTextObject(text=fit(f"{heading}\n{escape(text)}", 3000)))
    )
    if priority == "urgent":
        warning = f":rotating_light: *This pings everyone (@channel) in* {where}{more}."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(warning, 3000))))
    else:
        note = f"Goes to {where}{more}, with an Acknowledge button."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(note, 2000))]))
    submit = "Send urgent" if priority == "urgent" else "Send"
    return _view(BROADCAST_SEND, "Broadcast preview", submit, blocks, metadata)


def incident_modal(origin: Origin) -> View:
    severities = [
        Option(value="1", label="1 — most severe"),
        Option(value="2", label="2"),
        Option(value="3", label="3 — least severe"),
    ]
    blocks: list[Block] = [
        InputBlock(
            block_id="title",
            label=_plain("Title"),
            element=PlainTextInputElement(
                action_id="title",
                max_length=MAX_TITLE_CHARS,
                placeholder=_plain("e.g. Teams outage"),
            ),
        ),
        InputBlock(
            block_id="severity",
            label=_plain("Severity"),
            element=StaticSelectElement(
                action_id="severity", options=severities, initial_option=severities[1]
            ),
        ),
        InputBlock(
            block_id="drill",
            label=_plain("Drill"),
            optional=True,
            element=CheckboxesElement(
                action_id="drill", options=[Option(value="drill", label="This is a drill")]
            ),
        ),
    ]
    return _view(INCIDENT, "Start an incident", "Start", blocks, origin.encode())
