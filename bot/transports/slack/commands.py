"""The slash commands Lifeline declares, and how each one maps onto the one command grammar."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Slack rejects a manifest that declares one of its built-in commands.
RESERVED = frozenset(
    {
        "status", "me", "remind", "search", "who", "open", "join", "leave", "topic", "msg",
        "dm", "invite", "away", "active", "mute", "feed", "shrug", "giphy", "apps", "collapse",
        "expand", "shortcuts", "call", "archive", "rename", "kick", "remove", "prefs", "feedback",
    }
)  # fmt: skip
_PREFIX = re.compile(r"^[a-z0-9_-]{0,16}$")
MAX_NAME_CHARS = 32


@dataclass(frozen=True)
class SlashCommand:
    base: str  # name without the prefix and slash: `checkin`
    word: str  # the command word it runs; "" for /lifeline (the text is the whole command)
    description: str
    usage_hint: str


SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand(
        "incident",
        "incident",
        "Show, start or close the incident; hand over command; new operational period",
        "[start <title> [sev 1-3] [drill] | close [summary] | handoff @user | period [hours]]",
    ),
    SlashCommand(
        "checkin",
        "status",
        "Check a department in, or see the status board",
        "[<department> [up|partial|down|na] [note]]",
    ),
    SlashCommand(
        "runbook",
        "runbook",
        "List runbooks, post one as a checklist, or mark a step",
        "[<name> [done <n> [note] | undo <n>]]",
    ),
    SlashCommand(
        "broadcast",
        "broadcast",
        "Send a message to every broadcast channel, with acknowledgement",
        "[urgent|normal|info] <text>",
    ),
    SlashCommand(
        "rollcall",
        "rollcall",
        "Ask every department without a check-in this period to report",
        "",
    ),
    SlashCommand(
        "inclog",
        "log",
        "Query the incident log, or export it as a file (CSV, JSON Lines, Markdown)",
        "[dept...] [kind...] [by @user] [since 2h|14:00] [limit N] | export [csv|jsonl|md] [...]",
    ),
    SlashCommand(
        "lifeline",
        "",
        "Any Lifeline command: help, ack, status, incident, ...",
        "help | <command> [arguments]",
    ),
)


class PrefixError(ValueError):
    """SLACK_COMMAND_PREFIX would make command names Slack refuses."""


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise PrefixError(
            f"SLACK_COMMAND_PREFIX {prefix!r} must be at most 16 lower-case letters, digits, "
            "dashes or underscores, like ll-"
        )
    for command in SLASH_COMMANDS:
        name = prefix + command.base
        if name in RESERVED:
            raise PrefixError(
                f"SLACK_COMMAND_PREFIX {prefix!r} makes /{name}, which Slack reserves"
            )
        if len(name) + 1 > MAX_NAME_CHARS:
            raise PrefixError(f"SLACK_COMMAND_PREFIX {prefix!r} makes /{name}, which is too long")
    return prefix


def slash_names(prefix: str) -> dict[str, SlashCommand]:
    """`/ll-checkin` → its SlashCommand, for the configured prefix."""
    return {f"/{prefix}{command.base}": command for command in SLASH_COMMANDS}


def command_text(command: SlashCommand, text: str) -> str:
    """The line the router reads: `/checkin pharmacy down` → `status pharmacy down`."""
    text = text.strip()
    if not command.word:
        return text
    return f"{command.word} {text}".strip()
