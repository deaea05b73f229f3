"""Domain errors: UserError carries a user-facing answer (the router turns it into a reply); the
others say what the store found, in the domain's words, for handlers to answer."""

from __future__ import annotations

from bot.domain.broadcast import Ack
from bot.domain.models import CheckIn, Incident
from bot.domain.runbook_run import StepMark


class UserError(Exception):
    """Bad input or a refused action. `message` is exactly what the user reads."""

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class Denied(UserError):
    """The actor may not run this command; the refusal is answered and logged as `denied`."""


class StoreUnavailable(Exception):
    """The database could not be reached (or did not answer in time); nothing was written."""


class SpoolFull(StoreUnavailable):
    """The database is unreachable and the local spool is at a limit: nothing was kept."""


class Spooled(Exception):
    """The database is unreachable; the write is kept in this server's spool under `ref` and
    reaches the shared log when the database is back."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class IncidentAlreadyOpen(Exception):
    def __init__(self, incident: Incident) -> None:
        super().__init__(incident.id)
        self.incident = incident


class IncidentNotOpen(Exception):
    """The incident was closed (or replaced) between reading it and writing to it."""


class CheckInResent(Exception):
    """The same person sent the same check-in again within the resend window; `first` is the
    one recorded."""

    def __init__(self, first: CheckIn) -> None:
        super().__init__(first.department)
        self.first = first


class AlreadyAcknowledged(Exception):
    def __init__(self, ack: Ack) -> None:
        super().__init__(ack.actor.name)
        self.ack = ack


class StepAlreadyDone(Exception):
    def __init__(self, mark: StepMark) -> None:
        super().__init__(mark.actor.name)
        self.mark = mark


class StepNotDone(Exception):
    """Undo of a step that is not marked done."""


class RunIncidentClosed(Exception):
    """The incident stopped being the open one before the change could be written."""
