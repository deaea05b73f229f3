"""The one error type that carries a user-facing answer; the router turns it into a reply."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action. `message` is exactly what the user reads."""

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


class Denied(UserError):
    """The actor may not run this command; the refusal is answered and logged as `denied`."""
