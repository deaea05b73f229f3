"""Slack's signed payloads for forms, shortcuts and the Home tab, as Slack sends them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.slack_harness import SlackBot

_ids = itertools.count(1)


def _user(user: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T1"}


async def interactive(slack: SlackBot, payload: dict[str, Any], **post: Any) -> tuple[int, str]:
    """A signed interactivity request (form-encoded `payload=`); the status and body."""
    body = urlencode({"payload": json.dumps(payload)})
    return await slack.post(body, "application/x-www-form-urlencoded", **post)


def opened_view(slack: SlackBot, index: int = -1) -> dict[str, Any]:
    """A view the bot opened (views.open), as the stand-in now holds it (with its id)."""
    call = slack.stub.calls_to("views.open")[index]
    assert call.answer is not None, call
    return dict(slack.stub.views[call.answer["view"]["id"]])


def filled(view: dict[str, Any], **answers: Any) -> dict[str, dict[str, Any]]:
    """`state.values` for a view, answered as a person would: selects and radios take an option
    value, text inputs a string, checkboxes a list of values."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input" or block["block_id"] not in answers:
            continue
        element = block["element"]
        answer = answers[block["block_id"]]
        kind = element["type"]
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": answer}
        elif kind == "checkboxes":
            state = {"type": kind, "selected_options": [{"value": v} for v in answer]}
        else:
            state = {"type": kind, "selected_option": {"value": answer} if answer else None}
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def submission(
    view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = "U1"
) -> dict[str, Any]:
    number = next(_ids)
    return {
        "type": "view_submission", "team": {"id": "T1", "domain": "t"}, "user": _user(user),
        "api_app_id": "A1", "token": "legacy", "trigger_id": f"{number}.3.submit",
        "view": {**view, "state": {"values": values}, "hash": f"h{number}", "team_id": "T1",
                 "app_id": "A1", "bot_id": "B1"},
        "response_urls": [],
    }  # fmt: skip


async def submit(
    slack: SlackBot, view: dict[str, Any], *, user: str = "U1", **answers: Any
) -> dict[str, Any]:
    """Submits `view` with `answers`; returns the ack's JSON ({} when the form just closes)."""
    status, body = await interactive(slack, submission(view, filled(view, **answers), user=user))
    assert status == 200, (status, body)
    return json.loads(body) if body else {}


async def global_shortcut(slack: SlackBot, callback_id: str, *, user: str = "U1") -> int:
    number = next(_ids)
    payload = {
        "type": "shortcut", "token": "legacy", "action_ts": f"{time.time():.6f}",
        "team": {"id": "T1", "domain": "t"}, "user": _user(user), "callback_id": callback_id,
        "trigger_id": f"{number}.4.shortcut",
    }  # fmt: skip
    status, _ = await interactive(slack, payload)
    return status


async def message_shortcut(
    slack: SlackBot,
    text: str,
    *,
    user: str = "U1",
    channel: str = "C1",
    ts: str = "1700000300.000100",
    hook: str = "shortcut",
) -> int:
    number = next(_ids)
    payload = {
        "type": "message_action", "token": "legacy", "action_ts": f"{time.time():.6f}",
        "team": {"id": "T1", "domain": "t"}, "user": _user(user),
        "channel": {"id": channel, "name": "incident"}, "callback_id": "lifeline-add-to-log",
        "trigger_id": f"{number}.5.message", "message_ts": ts,
        "message": {"type": "message", "user": "U2", "ts": ts, "text": text},
        "response_url": slack.stub.hook_url(hook),
    }  # fmt: skip
    status, _ = await interactive(slack, payload)
    return status


async def home_opened(slack: SlackBot, *, user: str = "U1", event_id: str = "") -> int:
    payload = {
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or f"EvHome{next(_ids)}", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home",
                  "event_ts": f"{time.time():.6f}"},
    }  # fmt: skip
    status, _ = await slack.post(json.dumps(payload), "application/json")
    return status


def home_button(home: dict[str, Any], action_id: str) -> dict[str, Any]:
    """A button or select on a published Home tab, by its action id."""
    for block in home["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} on the Home tab")


async def home_tap(
    slack: SlackBot, element: dict[str, Any], *, user: str = "U1", option: str | None = None
) -> int:
    """A tap on a Home tab's button (or a choice in its select), as block_actions from a view."""
    number = next(_ids)
    action: dict[str, Any] = {
        "action_id": element["action_id"], "block_id": "b", "type": element["type"],
        "action_ts": f"{time.time():.6f}",
    }  # fmt: skip
    if option is not None:
        action["selected_option"] = {"value": option}
    else:
        action["value"] = element.get("value", "")
    payload = {
        "type": "block_actions", "api_app_id": "A1", "token": "legacy", "user": _user(user),
        "team": {"id": "T1", "domain": "t"}, "trigger_id": f"{number}.6.home",
        "container": {"type": "view", "view_id": f"VH{user}"},
        "view": {"id": f"VH{user}", "type": "home", "callback_id": "lifeline-home"},
        "actions": [action],
    }  # fmt: skip
    status, _ = await interactive(slack, payload)
    return status
