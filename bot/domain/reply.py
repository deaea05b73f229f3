"""A transport-neutral answer: each transport renders it (Block Kit, Matrix HTML, plain text)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["ok", "recorded", "spooled", "error", "denied"]


class Action(BaseModel):
    """A button: clicking it runs `command` as the clicking user, exactly as if they typed it."""

    label: str
    command: str
    style: Literal["default", "primary", "danger"] = "default"


class ReplyField(BaseModel):
    label: str
    value: str


class Row(BaseModel):
    """One table row; `marker` is a state the renderer may show as a colour or symbol."""

    cells: list[str]
    marker: str | None = None


class Table(BaseModel):
    columns: list[str]
    rows: list[Row] = Field(default_factory=list)


class Attachment(BaseModel):
    """A file that goes with a reply (an export, a report). The content is `data`, or the file at
    `path` for something too large to hold in memory; transports deliver it their own way (Slack
    upload, Matrix `m.file`, a path printed on the console)."""

    name: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None
    title: str = ""

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None, "an attachment has data or a path"
        return self.path.read_bytes()

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size


class Reply(BaseModel):
    """Plain text everywhere: no markup. Transports escape it for their platform."""

    title: str = ""
    lines: list[str] = Field(default_factory=list)
    fields: list[ReplyField] = Field(default_factory=list)
    table: Table | None = None
    footer: str = ""
    # A command the footer invites the reader to type (`ack B-1`); each transport shows it as
    # typed there (`!ack B-1` on Matrix) after the footer, via `footer_line`.
    footer_command: str = ""
    actions: list[Action] = Field(default_factory=list)
    ephemeral: bool = False
    outcome: Outcome = "ok"
    # When this answers a button press: replace the message the button was on (a checklist that
    # ticks in place) instead of posting a new one. Transports without editing post it instead.
    edit_source: bool = False
    attachments: list[Attachment] = Field(default_factory=list)  # files delivered with it

    @property
    def attachment(self) -> Attachment | None:
        return self.attachments[0] if self.attachments else None

    def footer_line(self, command_prefix: str = "") -> str:
        """The footer with its command as typed on a transport whose commands start with
        `command_prefix`."""
        if not self.footer_command:
            return self.footer
        invite = f"reply {command_prefix}{self.footer_command}"
        return f"{self.footer} · {invite}" if self.footer else invite

    @classmethod
    def error(cls, message: str, *, usage: str | None = None, denied: bool = False) -> Reply:
        lines = [message] + ([f"Usage: {usage}"] if usage else [])
        return cls(lines=lines, ephemeral=True, outcome="denied" if denied else "error")
