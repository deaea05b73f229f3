"""What a Slack payload must look like before bolt's listeners read it: bolt indexes and `.get`s
payloads without checking types, so a signed but malformed body would crash it (HTTP 500) or,
with no user, reach a handler as nobody. Refused here, with a short reason for the log."""

from __future__ import annotations

from typing import Any

# Keys bolt's context extraction reads on every request: each is a string or an object.
_NAMED = ("user", "team", "channel", "enterprise")
_OBJECTS = ("event", "message", "container", "view", "previous_message", "state")


class Malformed(Exception):
    """The request cannot be a Slack request Lifeline handles; `str(error)` says why."""


def check_shape(body: Any) -> None:
    """Raises Malformed unless `body` (HTTP or a Socket Mode envelope's payload) has the types
    bolt and Lifeline's listeners read, and a real user wherever a command is built."""
    if not isinstance(body, dict):
        raise Malformed("payload is not an object")
    if "command" in body:
        _slash(body)
        return
    _common(body)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise Malformed("no type")
    if kind == "block_actions":
        _block_actions(body)
    elif kind == "event_callback":
        _event(body.get("event"))
    elif kind == "url_verification" and not isinstance(body.get("challenge"), str):
        raise Malformed("url_verification without a challenge")


def _slash(body: dict[str, Any]) -> None:
    for key, value in body.items():
        if not isinstance(value, str):
            raise Malformed(f"slash command field {key} is not a string")
    if not body["command"].startswith("/"):
        raise Malformed("slash command name does not start with /")
    if not body.get("user_id"):
        raise Malformed("slash command without a user")


def _common(body: dict[str, Any]) -> None:
    for key in _NAMED:
        value = body.get(key)
        if value is None or isinstance(value, str):
            continue
        if not isinstance(value, dict) or not isinstance(value.get("id", ""), str):
            raise Malformed(f"{key} is neither an id nor an object with one")
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict):
            raise Malformed(f"{key} is not an object")
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Malformed("authorizations is not a list of objects")
    for key in ("response_url", "trigger_id", "event_id", "team_id", "api_app_id"):
        if key in body and not isinstance(body[key], str):
            raise Malformed(f"{key} is not a string")


def _block_actions(body: dict[str, Any]) -> None:
    user = body.get("user")
    if not isinstance(user, dict) or not user.get("id"):
        raise Malformed("button click without a user")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Malformed("button click without actions")
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            raise Malformed("action without an action_id")
        for key in ("value", "action_ts", "block_id"):
            if key in action and not isinstance(action[key], str):
                raise Malformed(f"action {key} is not a string")
    _strings(body.get("container") or {}, "container", ("message_ts", "channel_id"))
    _strings(body.get("message") or {}, "message", ("ts", "thread_ts"))
    for key in ("username", "name"):
        if key in user and not isinstance(user[key], str):
            raise Malformed(f"user {key} is not a string")


def _event(event: Any) -> None:
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise Malformed("event_callback without an event type")
    _strings(event, "event", ("user", "text", "channel", "ts", "thread_ts", "bot_id"))


def _strings(value: dict[str, Any], what: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in value and value[key] is not None and not isinstance(value[key], str):
            raise Malformed(f"{what} {key} is not a string")
