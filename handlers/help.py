"""`help`: every command with its usage, or one command with examples."""

from __future__ import annotations

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, Words
from bot.domain.errors import UserError
from bot.domain.permissions import roles_of
from bot.domain.reply import Reply


async def run(command: Command, words: Words, ctx: Context) -> Reply:
    if len(words) > 1:
        return _one(words.tokens[1], ctx)
    incident = await ctx.store.open_incident()
    roles = roles_of(command, ctx.facility, incident)
    lines: list[str] = []
    for spec in ctx.commands:
        if spec.roles and not spec.roles & roles:
            continue  # each user sees only what they may run
        lines.append(f"{spec.usage[0]} — {spec.summary}")
    lines.append("Type help <command> for details and examples.")
    return Reply(title="Lifeline commands", lines=lines, ephemeral=True)


def _one(word: str, ctx: Context) -> Reply:
    key = word.lower().lstrip("/!")
    spec = next((s for s in ctx.commands if key in (s.name, *s.aliases)), None)
    if spec is None:
        names = ", ".join(s.name for s in ctx.commands)
        raise UserError(f"There is no command “{word}”. Commands: {names}.")
    lines = [f"Usage: {usage}" for usage in spec.usage] + list(spec.notes)
    lines += ["Examples:", *(f"  {example}" for example in spec.examples)]
    return Reply(title=f"{spec.name} — {spec.summary}", lines=lines, ephemeral=True)


SPEC = CommandSpec(
    name="help",
    summary="Usage for every command, or for one.",
    usage=("help [command]",),
    examples=("help", "help status"),
    handler=run,
)
