"""Replies as plain text: the console's output and every transport's fallback text."""

from __future__ import annotations

import re

from bot.domain.reply import Action, Reply, Table
from bot.domain.user_text import clean

MARKERS = {"up": "+", "partial": "~", "down": "X", "na": "-", "unknown": "?", "stale": "!"}
LEGEND = "+ up  ~ partial  X down  - n/a  ? no report  ! stale"
MAX_CELL = 48
_NUMBERED = re.compile(r"^(.*\s)(\d+)$")


def render_text(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(reply.title)
    if reply.table is not None and reply.table.rows:
        parts.append(render_table(reply.table))
    if reply.fields:
        width = max(len(field.label) for field in reply.fields)
        parts += [f"{field.label + ':':<{width + 1}} {field.value}" for field in reply.fields]
    parts += reply.lines
    if reply.actions:
        parts.append("Actions: " + " | ".join(action_commands(reply.actions)))
    if reply.footer or reply.footer_command:
        parts.append(reply.footer_line())
    return clean("\n".join(parts))


def action_commands(actions: list[Action]) -> list[str]:
    """The commands, with runs that differ only in a final number written once:
    `runbook ehr done 1` … `runbook ehr done 9` → `runbook ehr done 1–9` (a checklist's buttons)."""
    out: list[str] = []
    prefix, first, last = "", 0, -1
    for action in actions:
        match = _NUMBERED.match(action.command)
        if match and match[1] == prefix and int(match[2]) == last + 1:
            last += 1
            continue
        if last >= 0:
            out.append(f"{prefix}{first}" if first == last else f"{prefix}{first}–{last}")
        prefix, first, last = (match[1], int(match[2]), int(match[2])) if match else ("", 0, -1)
        if not match:
            out.append(action.command)
    if last >= 0:
        out.append(f"{prefix}{first}" if first == last else f"{prefix}{first}–{last}")
    return out


def render_table(table: Table) -> str:
    marked = any(row.marker for row in table.rows)
    rows = [[_clip(cell) for cell in row.cells] for row in table.rows]
    widths = [
        max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(table.columns)
    ]
    prefix = "  " if marked else ""

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    out = [prefix + line([column.upper() for column in table.columns]).rstrip()]
    for source, cells in zip(table.rows, rows, strict=True):
        marker = MARKERS.get(source.marker or "", " ") + " " if marked else ""
        out.append((marker + line(cells)).rstrip())
    if marked:
        out.append(LEGEND)
    return "\n".join(out)


def _clip(cell: str) -> str:
    flat = " ".join(cell.split())
    return flat if len(flat) <= MAX_CELL else flat[: MAX_CELL - 1] + "…"
