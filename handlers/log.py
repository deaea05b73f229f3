"""`log` (`/inclog` on Slack): newest-first queries of the incident log."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.log_query import LogQuery
from bot.domain.models import LogEntry, LogKind
from bot.domain.parsing import find_department, parse_mention, unknown_department
from bot.domain.permissions import LOG_ROLES, require
from bot.domain.reply import Attachment, Reply, Row, Table
from bot.domain.timefmt import format_time, parse_since
from bot.services.exports.log_file import (
    FORMAT_NAMES,
    ExportFormat,
    export_name,
    export_to_file,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
USAGE = "log [department...] [kind...] [by @user] [since 2h|since 14:00] [limit N]"
EXPORT_USAGE = "log export [csv|jsonl|md] [department...] [kind...] [by @user] [since 2h]"
FORMAT_WORDS: dict[str, ExportFormat] = {
    "csv": "csv",
    "jsonl": "jsonl",
    "json": "jsonl",
    "ndjson": "jsonl",
    "md": "md",
    "markdown": "md",
}
NO_LIMIT_IN_EXPORT = (
    "An export holds every entry that matches; leave out limit (filter by department, kind, "
    "person or since instead)."
)
KIND_WORDS: dict[str, tuple[str, ...]] = {
    **{kind.value: (kind.value,) for kind in LogKind},
    "checkins": (LogKind.CHECKIN.value,),
    "incident": tuple(k.value for k in LogKind if k.value.startswith("incident.")),
    "broadcasts": (LogKind.BROADCAST.value,),
    "ack": (LogKind.BROADCAST_ACK.value,),
    "acks": (LogKind.BROADCAST_ACK.value,),
    "runbook": (LogKind.RUNBOOK_STARTED.value, LogKind.RUNBOOK_STEP.value),
    "notes": (LogKind.NOTE.value,),
}


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    incident = await ctx.store.open_incident()
    require(command, ctx.facility, incident, LOG_ROLES, "read the incident log")
    if words.lower(1) == "export":
        return await _export(command, words, ctx)
    query = _parse(words.tokens[1:], command, ctx)
    entries = await ctx.store.query_log(query)
    now = ctx.now()
    table = Table(columns=["When", "Kind", "Department", "Who", "What"])
    for entry in entries:
        table.rows.append(
            Row(
                cells=[
                    format_time(entry.at, ctx.facility.tz, now),
                    entry.kind.value,
                    entry.department or "",
                    entry.actor.name,
                    describe(entry),
                ]
            )
        )
    title = f"Incident log — {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first"
    if not entries:
        return Reply(title=title, lines=["Nothing in the log matches."], ephemeral=True)
    return Reply(title=title, table=table, ephemeral=True)


def describe(entry: LogEntry) -> str:
    if entry.kind is LogKind.CHECKIN:
        state = str(entry.data.get("state", "")).upper()
        return f"{state} — {entry.text}" if entry.text else state
    if entry.kind is LogKind.DENIED:
        return f"refused: {entry.text}"
    return entry.text


async def _export(command: Command, words: Words, ctx: Context) -> Reply:
    tokens = words.tokens[2:]
    fmt: ExportFormat = "csv"
    if tokens and tokens[0].lower() in FORMAT_WORDS:
        fmt = FORMAT_WORDS[tokens[0].lower()]
        tokens = tokens[1:]
    elif tokens and not _is_filter(tokens[0], ctx):
        raise UserError(
            f"“{tokens[0]}” is not an export format or a filter. Formats: csv (the default), "
            "jsonl, md.",
            usage=EXPORT_USAGE,
        )
    if any(token.lower() == "limit" for token in tokens):
        raise UserError(NO_LIMIT_IN_EXPORT, usage=EXPORT_USAGE)
    query = _parse(tokens, command, ctx, usage=EXPORT_USAGE)
    now = ctx.now()
    name = export_name(ctx.facility.slug, fmt, now.astimezone(ctx.facility.tz))
    name = name.replace(f".{fmt}", f"-{secrets.token_hex(2)}.{fmt}")
    title = f"Incident log — {ctx.facility.facility}"
    exported = await export_to_file(
        ctx.store.log, query, fmt, ctx.facility.tz, ctx.files / name, title=title
    )
    filters = " ".join(tokens)
    await ctx.store.append(
        command.id,
        LogEntry(
            at=now,
            kind=LogKind.EXPORT,
            actor=command.actor,
            text=f"Exported {_entries(exported.entries)} as {FORMAT_NAMES[fmt]}"
            + (f" ({filters})" if filters else ""),
            data={"format": fmt, "filters": filters, "entries": exported.entries, "file": name},
        ),
    )
    return Reply(
        lines=[
            f"Exported {_entries(exported.entries)} of the incident log as {FORMAT_NAMES[fmt]}"
            + (f", filtered by: {filters}." if filters else "."),
            f"File: {name}",
        ],
        attachments=[
            Attachment(
                name=name, content_type=exported.content_type, path=exported.path, title=title
            )
        ],
        ephemeral=True,
    )


def _is_filter(word: str, ctx: Context) -> bool:
    lowered = word.lower()
    return (
        lowered in ("by", "since", "limit")
        or lowered in KIND_WORDS
        or find_department(word, ctx.facility) is not None
    )


def _entries(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def _parse(
    tokens: Sequence[str], command: Command, ctx: Context, *, usage: str = USAGE
) -> LogQuery:
    departments: list[str] = []
    kinds: list[str] = []
    actors: list[str] = []
    since = None
    limit = DEFAULT_LIMIT
    index = 0
    while index < len(tokens):
        word = tokens[index]
        lowered = word.lower()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if lowered in ("by", "since", "limit"):
            if following is None:
                raise UserError(f"“{word}” needs a value after it.", usage=usage)
            if lowered == "by":
                named = following if following.startswith(("@", "<")) else "@" + following
                actor = parse_mention(named, command.actor.transport)
                actors.append(actor.id if actor else following)
            elif lowered == "since":
                try:
                    since = parse_since(following, ctx.now(), ctx.facility.tz)
                except ValueError as error:
                    raise UserError(str(error), usage=usage) from None
            else:
                limit = _limit(following)
            index += 2
            continue
        if lowered in KIND_WORDS:
            kinds.extend(KIND_WORDS[lowered])
        elif (dept := find_department(word, ctx.facility)) is not None:
            departments.append(dept.id)
        else:
            raise UserError(
                unknown_department(word, ctx.facility).replace(
                    "department", "department or kind", 1
                )
                + " Kinds: checkin, incident, broadcast, ack, runbook, note, denied.",
                usage=usage,
            )
        index += 1
    return LogQuery(departments=departments, kinds=kinds, actors=actors, since=since, limit=limit)


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise UserError(f"The limit must be a number from 1 to {MAX_LIMIT}, not “{text}”.")
    return int(text)


SPEC = CommandSpec(
    name="log",
    aliases=("inclog",),
    summary="Query the incident log, newest first, or export it as a file (IT, commanders, "
    "admins).",
    usage=(USAGE, EXPORT_USAGE),
    examples=(
        "log",
        "log pharmacy since 2h",
        "log checkin by @alice limit 50",
        "log denied since 14:00",
        "log export csv",
        "log export jsonl pharmacy since 12h",
    ),
    handler=run,
    roles=frozenset({"it", "commander", "admin", "incident commander"}),
)
