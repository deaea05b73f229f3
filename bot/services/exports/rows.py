"""A log entry as one flat export row: facility-zone time with its offset, and UTC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.models import LogEntry

COLUMNS = (
    "id",
    "time",
    "incident",
    "kind",
    "department",
    "actor_id",
    "actor_name",
    "transport",
    "text",
    "data",
)


@dataclass(frozen=True)
class ExportRow:
    id: str
    time: str  # ISO 8601 in the facility's zone, with its offset: 2026-11-22T10:00:00-05:00
    time_utc: str  # ISO 8601 in UTC: 2026-11-22T15:00:00Z
    incident: str
    kind: str
    department: str
    actor_id: str
    actor_name: str
    transport: str
    text: str
    data: dict[str, Any]

    def cells(self) -> list[str]:
        """The CSV cells, in COLUMNS order; `data` as compact JSON."""
        return [
            self.id, self.time, self.incident, self.kind, self.department, self.actor_id,
            self.actor_name, self.transport, self.text, compact_json(self.data),
        ]  # fmt: skip


def to_row(entry: LogEntry, tz: ZoneInfo) -> ExportRow:
    return record_row(entry.model_dump(mode="json"), tz)


def record_row(record: dict[str, Any], tz: ZoneInfo) -> ExportRow:
    """A row from an entry as stored (decoded JSON with its id), without building a model."""
    at = datetime.fromisoformat(record["at"])
    actor = record["actor"]
    return ExportRow(
        id=record.get("id", ""),
        time=at.astimezone(tz).isoformat(),
        time_utc=at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        incident=record.get("incident_id") or "",
        kind=record["kind"],
        department=record.get("department") or "",
        actor_id=actor["id"],
        actor_name=actor["name"],
        transport=actor["transport"],
        text=record.get("text", ""),
        data=record.get("data") or {},
    )


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
