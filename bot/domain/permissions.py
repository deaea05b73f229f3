"""Who may run what: configured roles, roles a transport grants, and the incident's commander."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.command import Command
from bot.domain.errors import Denied
from bot.domain.facility import FacilityConfig
from bot.domain.models import Incident

INCIDENT_COMMANDER = "incident commander"
COMMAND_ROLES = frozenset({"commander", "admin", INCIDENT_COMMANDER})
LOG_ROLES = frozenset({"it", "commander", "admin", INCIDENT_COMMANDER})
ALERT_ROLES = frozenset({"commander", "admin"})
URGENT_REFUSED = (
    "Only someone with the commander or admin role can send an urgent broadcast: it pings "
    "every channel. Send it without pinging (broadcast normal <text>), or ask an admin to add "
    "you to the commander role in the facility file."
)


def roles_of(command: Command, facility: FacilityConfig, incident: Incident | None) -> set[str]:
    actor_id = command.actor.id
    roles = {name for name, members in facility.roles if actor_id in members}
    roles |= set(command.granted_roles)
    if incident is not None and incident.commander.id == actor_id:
        roles.add(INCIDENT_COMMANDER)
    return roles


def describe(roles: Iterable[str]) -> str:
    ordered = list(roles)
    if not ordered:
        return "the incident commander"
    if len(ordered) == 1:
        return ordered[0]
    return ", ".join(ordered[:-1]) + " or " + ordered[-1]


def require(
    command: Command,
    facility: FacilityConfig,
    incident: Incident | None,
    allowed: frozenset[str],
    action: str,
) -> None:
    if roles_of(command, facility, incident) & allowed:
        return
    who = describe([*sorted(allowed - {INCIDENT_COMMANDER}), INCIDENT_COMMANDER])
    raise Denied(f"Only the {who} can {action}. Ask the incident commander if this is needed.")


def require_urgent(command: Command, facility: FacilityConfig, incident: Incident | None) -> None:
    """Urgent broadcasts (the ones that ping everyone) per the facility's broadcast policy."""
    allowed = ALERT_ROLES if facility.broadcast_policy.urgent_needs_role else COMMAND_ROLES
    if not roles_of(command, facility, incident) & allowed:
        raise Denied(URGENT_REFUSED)
