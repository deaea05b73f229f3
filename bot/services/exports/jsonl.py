"""JSON Lines: one entry per line, its time in the facility's zone (with offset) and in UTC."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.services.exports.rows import ExportRow


def as_object(row: ExportRow) -> dict[str, object]:
    return {
        "id": row.id,
        "time": row.time,
        "time_utc": row.time_utc,
        "incident": row.incident or None,
        "kind": row.kind,
        "department": row.department or None,
        "actor": {"id": row.actor_id, "name": row.actor_name, "transport": row.transport},
        "text": row.text,
        "data": row.data,
    }


class JsonLinesWriter:
    def header(self) -> str:
        return ""

    def rows(self, rows: Iterable[ExportRow]) -> str:
        return "".join(json.dumps(as_object(row), ensure_ascii=False) + "\n" for row in rows)

    def footer(self) -> str:
        return ""
