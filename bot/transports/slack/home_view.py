"""The App Home tab as a view: the open incident, "your department" with one-tap check-ins, the
latest broadcasts with Acknowledge buttons, and the live board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.broadcast import PRIORITY_LABELS, Broadcast
from bot.domain.facility import Department, FacilityConfig
from bot.domain.reply import Reply
from bot.transports.slack.blocks import ACTION_PREFIX, clip, escape, fit, render
from bot.views.checkin_buttons import checkin_actions

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab
CHOOSE_DEPARTMENT = "lifeline-home-department"
ADD_NOTE = "lifeline-home-note"
SHOWN_BROADCASTS = 3


@dataclass(frozen=True)
class HomeContent:
    facility: FacilityConfig
    incident_line: str  # `INC-… Teams outage (sev 2), period 1` or `no incident open`
    department: Department | None
    department_state: str  # `DOWN — cabinets on override (Sam, 07:54)` or ""
    broadcasts: Sequence[Broadcast]
    board: Reply
    notice: Reply | None = None  # the answer to what this person just did here


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=False)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, 3000)))


def home_view(content: HomeContent) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=_plain(clip(f"Lifeline — {content.facility.facility}", 150)))
    ]
    if content.notice is not None:
        said = " ".join(content.notice.lines) or content.notice.title
        mark = ":white_check_mark:" if content.notice.outcome in ("ok", "recorded") else ":x:"
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=fit(f"{mark} {escape(said)}", 2000))])
        )
    blocks.append(_section(f"*Incident:* {escape(content.incident_line)}"))
    blocks += _your_department(content)
    blocks += _broadcasts(content.broadcasts)
    blocks.append(DividerBlock())
    room = MAX_HOME_BLOCKS - len(blocks)
    board = [block for message in render(content.board) for block in message.blocks]
    blocks += [Block.parse(raw) for raw in board[:room]]  # type: ignore[misc]
    return View(type="home", callback_id="lifeline-home", blocks=blocks)


def _your_department(content: HomeContent) -> list[Block]:
    options = [Option(value=d.id, label=clip(d.name, 75)) for d in content.facility.departments]
    initial = next(
        (o for o in options if content.department and o.value == content.department.id), None
    )
    chooser = StaticSelectElement(
        action_id=CHOOSE_DEPARTMENT,
        placeholder=_plain("Choose your department"),
        options=options[:100],
        initial_option=initial,
    )
    dept = content.department
    heading = (
        f"*Your department:* {escape(dept.name)}" if dept else "*Your department:* not chosen yet"
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=heading), accessory=chooser)]
    if dept is None:
        return blocks
    if content.department_state:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=fit(escape(content.department_state), 2000))]
            )
        )
    buttons = [
        ButtonElement(
            text=_plain(action.label),
            value=action.command,
            action_id=f"{ACTION_PREFIX}home-{index}",
            style=None if action.style == "default" else action.style,
        )
        for index, action in enumerate(checkin_actions(dept.id))
    ]
    buttons.append(ButtonElement(text=_plain("Add a note…"), value=dept.id, action_id=ADD_NOTE))
    blocks.append(ActionsBlock(block_id="your-department", elements=buttons))
    return blocks


def _broadcasts(broadcasts: Sequence[Broadcast]) -> list[Block]:
    if not broadcasts:
        return []
    blocks: list[Block] = [_section("*Latest broadcasts*")]
    for broadcast in broadcasts[:SHOWN_BROADCASTS]:
        label = PRIORITY_LABELS[broadcast.priority]
        sender = escape(broadcast.sender.name)
        text = f"*{broadcast.id}* ({label}) from {sender}\n{escape(broadcast.text)}"
        ack = ButtonElement(
            text=_plain("Acknowledge"),
            value=f"ack {broadcast.id}",
            action_id=f"{ACTION_PREFIX}ack-{broadcast.id}",
            style="primary",
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(text, 3000)), accessory=ack))
    return blocks
