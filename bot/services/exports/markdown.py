"""The log as a Markdown table, user text escaped so it stays inside its cell and cannot become
a link, an image, HTML or emphasis."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.services.exports.rows import ExportRow

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
COLUMNS = ("Time", "Incident", "Kind", "Department", "Who", "What")


def escape(text: str) -> str:
    """Markdown-inert text on one line: specials backslash-escaped, line breaks as spaces."""
    flat = " ".join(text.split())
    return _SPECIAL.sub(r"\\\1", flat).replace("&", "&amp;")


def table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(escape(cell) for cell in cells) + " |\n"


class MarkdownWriter:
    def __init__(self, title: str) -> None:
        self._title = title

    def header(self) -> str:
        return (
            f"# {escape(self._title)}\n\n"
            + "| " + " | ".join(COLUMNS) + " |\n"
            + "|" + "---|" * len(COLUMNS) + "\n"
        )  # fmt: skip

    def rows(self, rows: Iterable[ExportRow]) -> str:
        return "".join(
            table_row([
                row.time, row.incident, row.kind, row.department, row.actor_name,
                _what(row),
            ])
            for row in rows
        )  # fmt: skip

    def footer(self) -> str:
        return ""


def _what(row: ExportRow) -> str:
    if row.kind == "checkin":
        state = str(row.data.get("state", "")).upper()
        return f"{state} — {row.text}" if row.text else state
    return row.text
