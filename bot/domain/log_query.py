"""A log query: the filters of `log` (departments, kinds, actors, incident, since) and a limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.domain.models import LogEntry

IndexDimension = Literal["dept", "kind", "actor", "incident"]


@dataclass(frozen=True)
class LogQuery:
    departments: Sequence[str] = ()
    kinds: Sequence[str] = ()
    actors: Sequence[str] = ()
    incident_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20
    dimensions: list[tuple[IndexDimension, Sequence[str]]] = field(init=False)

    def __post_init__(self) -> None:
        dims: list[tuple[IndexDimension, Sequence[str]]] = []
        for name, values in (
            ("dept", self.departments),
            ("kind", self.kinds),
            ("actor", self.actors),
            ("incident", [self.incident_id] if self.incident_id else []),
        ):
            if values:
                dims.append((name, values))  # type: ignore[arg-type]
        object.__setattr__(self, "dimensions", dims)

    def matches(self, entry: LogEntry) -> bool:
        return self.matches_fields(entry.department, entry.kind, entry.actor.id, entry.incident_id)

    def matches_record(self, record: Mapping[str, Any]) -> bool:
        """The same test on an entry as stored (its JSON, decoded), for streaming exports."""
        return self.matches_fields(
            record.get("department"),
            record.get("kind"),
            record.get("actor", {}).get("id"),
            record.get("incident_id"),
        )

    def matches_fields(
        self, department: str | None, kind: str | None, actor_id: str | None, incident: str | None
    ) -> bool:
        return (
            (not self.departments or department in self.departments)
            and (not self.kinds or kind in self.kinds)
            and (not self.actors or actor_id in self.actors)
            and (not self.incident_id or incident == self.incident_id)
        )
