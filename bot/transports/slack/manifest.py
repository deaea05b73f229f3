"""The Slack app manifest for the configured command names: paste it into api.slack.com/apps."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.transports.slack.commands import SLASH_COMMANDS, check_prefix
from bot.transports.slack.modals import ADD_TO_LOG, GLOBAL_CHECKIN

# views.open/publish/update and chat.getPermalink need no scope of their own; answers to a
# global shortcut go to the app's Messages tab (chat:write), which people cannot type into.
SHORTCUTS = (
    {
        "name": "Check in",
        "type": "global",
        "callback_id": GLOBAL_CHECKIN,
        "description": "Check your department in: up, partial or down, with a note",
    },
    {
        "name": "Add to incident log",
        "type": "message",
        "callback_id": ADD_TO_LOG,
        "description": "Keep this message in the incident log, with a link to it",
    },
)
BOT_SCOPES = (
    "app_mentions:read",  # @Lifeline <command> in channels and threads
    "channels:history",  # after a crash, find a half-sent broadcast copy by its metadata
    "channels:join",  # join a public incident channel to pin the board there
    "chat:write",  # replies, the live board, broadcasts
    "chat:write.public",  # post the board and broadcasts in public channels it was not added to
    "commands",  # the slash commands and the two shortcuts
    "files:write",  # log exports and after-action reports, uploaded to the channel
    "groups:history",  # the same in private channels
    "pins:write",  # pin the live board
    "users:read",  # display names for the log
)


class ManifestError(ValueError):
    """A manifest that would send Slack's requests nowhere: HTTP mode without a public https URL."""


def check_base_url(base_url: str | None) -> str:
    """Slack posts only to https; a made-up host would create an app that never answers."""
    if not base_url:
        raise ManifestError(
            "HTTP mode needs the bot's public URL: add --url https://<your host> (or --socket-mode)"
        )
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(
            f"--url {base_url!r} must be the bot's public https:// address, "
            "like https://lifeline.hospital.org"
        )
    return base_url


def build_manifest(
    prefix: str = "", *, socket_mode: bool = False, base_url: str | None = None
) -> dict[str, Any]:
    """Socket Mode needs no public URL; HTTP mode sends everything to `<base_url>/slack/events`."""
    check_prefix(prefix)
    events_url = "" if socket_mode else check_base_url(base_url).rstrip("/") + "/slack/events"
    commands = []
    for command in SLASH_COMMANDS:
        entry: dict[str, Any] = {
            "command": f"/{prefix}{command.base}",
            "description": command.description,
            "should_escape": True,  # mentions arrive as <@U…|name>, so handoff knows who
        }
        if command.usage_hint:
            entry["usage_hint"] = command.usage_hint
        if not socket_mode:
            entry["url"] = events_url
        commands.append(entry)
    events: dict[str, Any] = {"bot_events": ["app_mention", "app_home_opened"]}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        events["request_url"] = events_url
        interactivity["request_url"] = events_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Lifeline",
            "description": "Incident check-ins, runbooks, broadcasts and the incident log",
            "long_description": _LONG_DESCRIPTION,
            "background_color": "#7a1f1f",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Lifeline", "always_online": True},
            "shortcuts": [dict(shortcut) for shortcut in SHORTCUTS],
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(
    prefix: str = "", *, socket_mode: bool = False, base_url: str | None = None
) -> str:
    manifest = build_manifest(prefix, socket_mode=socket_mode, base_url=base_url)
    header = (
        "# Lifeline's Slack app. Create it at https://api.slack.com/apps → Create New App →\n"
        "# From a manifest, and paste this. Regenerate with: .venv/bin/lifeline manifest --help\n"
    )
    return header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)


_LONG_DESCRIPTION = (
    "Lifeline is the hospital's fallback incident channel for when Microsoft Teams or "
    "Microsoft 365 is down. Departments check in with /checkin (up, partial or down, with a "
    "note) and every check-in rolls up into one live status board pinned in the incident "
    "channel, in the form of the HICS 251 Facility System Status Report. Incident commanders "
    "open and close incidents, hand over command, post downtime runbooks as checklists and "
    "broadcast messages with acknowledgement tracking. Every action is kept in an "
    "append-only incident log (HICS 214) that IT and commanders can query. "
    "Lifeline is not a place for patient information: keep check-ins operational."
)
