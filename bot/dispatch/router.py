"""transport → Command → router → handler → Reply; names, errors and the command log live here."""

from __future__ import annotations

import secrets
import time

import structlog

from bot.dispatch.context import CommandSpec, Context
from bot.domain.command import Command, tokenize
from bot.domain.errors import Denied, StoreUnavailable, UserError
from bot.domain.models import LogEntry, LogKind
from bot.domain.parsing import close_match
from bot.domain.phi_guard import findings
from bot.domain.reply import Reply
from bot.observability.metrics import Metrics

log = structlog.get_logger(__name__)

STORE_UNREACHABLE = (
    "Lifeline cannot reach its database right now, so nothing was recorded. Try again in a "
    "minute; if it keeps happening, tell IT (error ref {ref})."
)
HELD_TEXT = "(command text held by the PHI guard)"
UNEXPECTED = (
    "Lifeline hit an unexpected problem and could not finish this command (error ref {ref}). "
    "Try again; if it keeps happening, give IT the error ref."
)


class Router:
    def __init__(self, context: Context, metrics: Metrics) -> None:
        self.context = context
        self.metrics = metrics
        self._names = {
            alias: spec for spec in context.commands for alias in (spec.name, *spec.aliases)
        }

    def resolve(self, word: str) -> CommandSpec | None:
        return self._names.get(word.lower().lstrip("/!"))

    async def handle(self, command: Command) -> Reply:
        started = time.perf_counter()
        name = "?"
        try:
            words = tokenize(command.text)
            if not words.tokens:
                words = tokenize("help")
            spec = self.resolve(words.tokens[0])
            if spec is None:
                raise UserError(self._unknown(words.tokens[0]))
            name = spec.name
            reply = await spec.handler(command, words, self.context)
        except Denied as refusal:
            reply = Reply.error(refusal.message, denied=True)
            await self._log_denied(command, name, refusal.message)
        except UserError as error:
            reply = Reply.error(error.message, usage=error.usage)
        except StoreUnavailable:
            reply = _failure("command.store_unreachable", STORE_UNREACHABLE, command, name)
        except Exception:
            reply = _failure("command.failed", UNEXPECTED, command, name)
        seconds = time.perf_counter() - started
        self.metrics.command(command.actor.transport, name, reply.outcome, seconds)
        log.info(
            "command",
            command=name,
            outcome=reply.outcome,
            duration_ms=round(seconds * 1000, 2),
            **_who(command),
        )
        return reply

    def _unknown(self, word: str) -> str:
        guess = close_match(word.lstrip("/!"), self._names)
        hint = f" Did you mean {guess.name}?" if guess else ""
        return f"There is no command “{word}”.{hint} Type help to see every command."

    async def _log_denied(self, command: Command, name: str, reason: str) -> None:
        try:
            await self._append_denied(command, name, reason)
        except Exception:  # the refusal is still answered; the failure to log it is logged
            log.exception("command.denied_not_logged", command=name, **_who(command))

    async def _append_denied(self, command: Command, name: str, reason: str) -> None:
        incident = await self.context.store.open_incident()
        text = command.text[:2000]
        if findings(text, self.context.facility.phi_guard):
            text = HELD_TEXT  # a refused command is logged; patient data in it is not
        entry = LogEntry(
            at=self.context.now(),
            incident_id=incident.id if incident else None,
            kind=LogKind.DENIED,
            actor=command.actor,
            text=text,
            data={"command": name, "reason": reason},
        )
        await self.context.store.append(f"{command.id}:denied", entry)


def _failure(event: str, message: str, command: Command, name: str) -> Reply:
    """Log the traceback under a ref the user can quote; the user gets the message, no trace."""
    ref = "E-" + secrets.token_hex(3).upper()
    log.exception(event, error_ref=ref, command=name, **_who(command))
    return Reply.error(message.format(ref=ref))


def _who(command: Command) -> dict[str, str]:
    return {
        "actor": command.actor.id,
        "actor_name": command.actor.name,
        "transport": command.actor.transport,
        "command_id": command.id,
    }
