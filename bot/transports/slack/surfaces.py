"""Bolt listeners for the surfaces beyond messages: form submissions, the two shortcuts, the
Home tab's opening and its own controls. Each acks at once; slow work goes to tracked tasks."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from bot.transports.slack.forms import Forms, Spawn
from bot.transports.slack.home_tab import HomeTab
from bot.transports.slack.home_view import ADD_NOTE, CHOOSE_DEPARTMENT
from bot.transports.slack.modals import ADD_TO_LOG, CHECKIN, GLOBAL_CHECKIN, Origin


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return dict(actions[0])


def listen_for_surfaces(app: AsyncApp, forms: Forms, home: HomeTab, spawn: Spawn) -> None:
    @app.view(re.compile(r"^lifeline-"))
    async def submitted(ack: Any, body: dict[str, Any]) -> None:
        await forms.submit(ack, body)  # answers in the ack: errors stay in the form

    @app.shortcut(GLOBAL_CHECKIN)
    async def check_in_anywhere(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        spawn(forms.open(CHECKIN, str(body.get("trigger_id", "")), _user(body), Origin()))

    @app.shortcut(ADD_TO_LOG)
    async def add_to_log(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        spawn(forms.add_to_log(body))

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and event.get("user"):
            spawn(home.opened(str(event["user"])))

    @app.action(CHOOSE_DEPARTMENT)
    async def choose_department(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        option = _action(body).get("selected_option") or {}
        spawn(home.choose_department(_user(body), str(option.get("value", ""))))

    @app.action(ADD_NOTE)
    async def add_note(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        dept = str(_action(body).get("value", ""))
        trigger = str(body.get("trigger_id", ""))
        spawn(forms.open(CHECKIN, trigger, _user(body), Origin(home=True), dept))
