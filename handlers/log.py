"""`log` (`/inclog` on Slack): newest-first queries of the incident log."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.log_query import LogQuery
from bot.domain.models import LogEntry, LogKind
from bot.domain.parsing import find_department, parse_mention, unknown_department
from bot.domain.permissions import LOG_ROLES, require
from bot.domain.reply import Reply, Row, Table
from bot.domain.timefmt import format_time, parse_since

EXPORT_NOT_YET = (
    "Exporting the log as a file is not available yet. Query it with filters instead "
    "(limit up to 200), or ask IT to read the Redis stream directly."
)
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
USAGE = "log [department...] [kind...] [by @user] [since 2h|since 14:00] [limit N]"
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
        raise UserError(EXPORT_NOT_YET, usage=USAGE)
    query = _parse(words, command, ctx)
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


def _parse(words: Words, command: Command, ctx: Context) -> LogQuery:
    departments: list[str] = []
    kinds: list[str] = []
    actors: list[str] = []
    since = None
    limit = DEFAULT_LIMIT
    tokens = words.tokens[1:]
    index = 0
    while index < len(tokens):
        word = tokens[index]
        lowered = word.lower()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if lowered in ("by", "since", "limit"):
            if following is None:
                raise UserError(f"“{word}” needs a value after it.", usage=USAGE)
            if lowered == "by":
                named = following if following.startswith(("@", "<")) else "@" + following
                actor = parse_mention(named, command.actor.transport)
                actors.append(actor.id if actor else following)
            elif lowered == "since":
                try:
                    since = parse_since(following, ctx.now(), ctx.facility.tz)
                except ValueError as error:
                    raise UserError(str(error), usage=USAGE) from None
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
                usage=USAGE,
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
    summary="Query the incident log, newest first (IT, commanders, admins).",
    usage=(USAGE,),
    examples=(
        "log",
        "log pharmacy since 2h",
        "log checkin by @alice limit 50",
        "log denied since 14:00",
    ),
    handler=run,
    roles=frozenset({"it", "commander", "admin", "incident commander"}),
)
