"""The facility's YAML configuration: departments, roles and channels (DESIGN.md, Configuration)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain.timefmt import parse_duration

_DEPT_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
RoleName = Literal["admin", "commander", "it"]


class ConfigError(Exception):
    """A configuration problem; the message names the file, the key and what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    slack_channel: str | None = None
    matrix_room: str | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _DEPT_ID.match(value):
            raise ValueError("must be lower-case letters, digits and dashes, like blood-bank")
        return value

    @field_validator("aliases", mode="before")
    @classmethod
    def _lower_aliases(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(str(alias).strip().lower() for alias in value)
        return value

    @model_validator(mode="after")
    def _default_name(self) -> Department:
        if not self.name:
            object.__setattr__(self, "name", self.id.replace("-", " ").title())
        return self

    def channel_on(self, transport: str) -> str | None:
        """The department's own channel (Slack) or room (Matrix), where it is asked directly."""
        return {"slack": self.slack_channel, "matrix": self.matrix_room}.get(transport)


class ChannelTargets(_Strict):
    slack: str | None = None
    matrix: str | None = None


class BroadcastTargets(_Strict):
    slack: tuple[str, ...] = ()
    matrix: tuple[str, ...] = ()


class Channels(_Strict):
    incident: ChannelTargets = ChannelTargets()
    broadcast: BroadcastTargets = BroadcastTargets()

    def incident_on(
        self, transport: str, origin_transport: str | None = None, origin: str | None = None
    ) -> str | None:
        """The incident channel configured for `transport`; without one, the channel a command
        came from when it came from that transport (`origin_transport`, `origin`)."""
        configured: str | None = getattr(self.incident, transport, None)
        if configured:
            return configured
        return origin if origin_transport == transport else None

    def broadcast_on(self, transport: str) -> tuple[str, ...]:
        found: tuple[str, ...] = getattr(self.broadcast, transport, ())
        return found


class Roles(_Strict):
    admin: tuple[str, ...] = ()
    commander: tuple[str, ...] = ()
    it: tuple[str, ...] = ()


class BroadcastPolicy(_Strict):
    """Who may alert everyone. Urgent broadcasts ping every channel (@channel, @room), so by
    default they need a configured commander or admin role; the incident's own commander (who
    may be whoever opened it) sends normal and info ones. `urgent_needs_role: false` lets the
    incident's commander send urgent ones too."""

    urgent_needs_role: bool = True


class PhiPolicy(_Strict):
    """The PHI guard's facility settings (bot/domain/phi_guard.py)."""

    mrn_patterns: tuple[str, ...] = ()  # the facility's own record-number formats, as regexes
    allow_confirm: bool = False  # a sender may send held text anyway, starting it with not-phi

    @field_validator("mrn_patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
        return value


BUILTIN_DEPARTMENTS: tuple[Department, ...] = (
    Department(id="pharmacy", name="Pharmacy", aliases=("rx", "pharm")),
    Department(id="lab", name="Laboratory", aliases=("labs", "laboratory")),
    Department(id="radiology", name="Radiology", aliases=("rad", "imaging", "xray", "pacs")),
    Department(id="emergency", name="Emergency Department", aliases=("ed", "er", "ae")),
    Department(id="icu", name="Intensive Care", aliases=("critical-care", "micu", "sicu")),
    Department(id="surgery", name="Surgery / OR", aliases=("or", "periop", "theatre")),
    Department(id="nursing", name="Nursing", aliases=("nurses", "wards")),
    Department(id="blood-bank", name="Blood Bank", aliases=("bloodbank", "bb", "transfusion")),
    Department(id="registration", name="Registration", aliases=("reg", "admitting")),
    Department(id="dietary", name="Dietary", aliases=("food", "nutrition", "kitchen")),
    Department(id="it", name="IT", aliases=("is", "helpdesk", "informatics")),
)


class FacilityConfig(_Strict):
    facility: str = "General Hospital"
    timezone: str = "UTC"
    checkin_interval: timedelta = timedelta(minutes=60)
    period_hours: float = Field(default=12, gt=0, le=72)
    rollcall_interval: timedelta = timedelta(minutes=15)
    board_link_expiry: timedelta = timedelta(hours=12)  # how long a `board link` URL works
    departments: tuple[Department, ...] = BUILTIN_DEPARTMENTS
    roles: Roles = Roles()
    channels: Channels = Channels()
    broadcast_policy: BroadcastPolicy = BroadcastPolicy()
    phi_guard: PhiPolicy = PhiPolicy()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use a name like America/New_York"
            ) from None
        return value

    @field_validator("checkin_interval", "rollcall_interval", "board_link_expiry", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_duration(value)
        if isinstance(value, int | float):
            return timedelta(minutes=value)
        return value

    @field_validator("departments")
    @classmethod
    def _unique_names(cls, value: tuple[Department, ...]) -> tuple[Department, ...]:
        if not value:
            raise ValueError("list at least one department")
        ids: set[str] = set()
        owner: dict[str, str] = {}
        for dept in value:
            if dept.id in ids:
                raise ValueError(f"department {dept.id!r} is listed twice")
            ids.add(dept.id)
            for name in {dept.id, *dept.aliases}:
                if owner.setdefault(name, dept.id) != dept.id:
                    raise ValueError(f"{name!r} names both {owner[name]} and {dept.id}")
        return value

    @cached_property
    def department_names(self) -> dict[str, Department]:
        """Every id, alias and lower-case name → its department (built once per config)."""
        names: dict[str, Department] = {}
        for dept in self.departments:
            for name in (dept.id, *dept.aliases, dept.name.lower()):
                names.setdefault(name, dept)
        return names

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slug(self) -> str:
        """The facility's name as a key-safe namespace: `General Hospital` → `general-hospital`."""
        return re.sub(r"[^a-z0-9]+", "-", self.facility.lower()).strip("-") or "facility"

    def department(self, dept_id: str) -> Department:
        return next(dept for dept in self.departments if dept.id == dept_id)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


def parse_facility(data: Any, source: str) -> FacilityConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys (facility, departments, ...)")
    try:
        return FacilityConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: {_describe(error)}") from None
