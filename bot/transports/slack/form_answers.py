"""A submitted form as the command line a person would have typed, or the fields to correct.

The line goes through the router like any typed command, so every rule (roles, limits, the
incident guard) applies the same way. What can be told apart field by field is checked here
first, so Slack can show it under the field (`response_action: errors`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.domain.broadcast import PRIORITY_LABELS
from bot.domain.command import tokenize
from bot.domain.errors import UserError
from bot.domain.facility import FacilityConfig
from bot.domain.models import REPORTABLE_STATES
from bot.domain.parsing import check_note
from bot.transports.slack.modals import MAX_TITLE_CHARS

Values = Mapping[str, Mapping[str, Any]]
_STATES = {state.value for state in REPORTABLE_STATES}


@dataclass(frozen=True)
class Filled:
    line: str  # the command line; "" when there are errors
    text_block: str  # the free-text field: where the router's objections to the text go
    first_block: str  # where any other objection goes
    errors: dict[str, str] = field(default_factory=dict)
    text: str = ""


def _element(values: Values, block: str) -> Mapping[str, Any]:
    found = values.get(block)
    if not isinstance(found, Mapping):
        return {}
    element = found.get(block)
    return element if isinstance(element, Mapping) else {}


def _selected(values: Values, block: str) -> str:
    option = _element(values, block).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else ""


def _typed(values: Values, block: str) -> str:
    value = _element(values, block).get("value")
    return value.strip() if isinstance(value, str) else ""


def _checked(values: Values, block: str) -> set[str]:
    options = _element(values, block).get("selected_options")
    if not isinstance(options, list):
        return set()
    return {str(o.get("value")) for o in options if isinstance(o, Mapping)}


def text_problem(text: str, what: str) -> str | None:
    """Why free text cannot be sent as it is. The PHI guard (issue 12) belongs here when it is
    on main; until then it applies wherever the handlers apply it, and its answer comes back
    through the router onto this same field."""
    try:
        check_note(text, what)
    except UserError as error:
        return error.message
    return None


def _line_problem(line: str) -> str | None:
    try:
        tokenize(line)
    except UserError as error:
        return error.message
    return None


def checkin(values: Values, facility: FacilityConfig) -> Filled:
    dept, state, note = _selected(values, "department"), _selected(values, "state"), ""
    note = _typed(values, "note")
    errors: dict[str, str] = {}
    if dept not in {d.id for d in facility.departments}:
        errors["department"] = "Choose your department from the list."
    if state not in _STATES:
        errors["state"] = "Choose Up, Partial, Down or N/A."
    line = f"status {dept} {state} {note}".strip()
    problem = text_problem(note, "note") or _line_problem(line)
    if problem:
        errors["note"] = problem
    return Filled("" if errors else line, "note", "department", errors, note)


def broadcast(values: Values) -> Filled:
    priority, text = _selected(values, "priority"), _typed(values, "text")
    errors: dict[str, str] = {}
    if priority not in PRIORITY_LABELS:
        errors["priority"] = "Choose urgent, normal or info."
    problem = (
        text_problem(text, "broadcast")
        or (None if text else "Write the message to send.")
        or _line_problem(f"broadcast {priority} {text}")
    )
    if problem:
        errors["text"] = problem
    line = "" if errors else f"broadcast {priority} {text}"
    return Filled(line, "text", "priority", errors, text)


def broadcast_send(priority: str, text: str) -> Filled:
    """The previewed message, read back from the preview's metadata (the app wrote it)."""
    if priority not in PRIORITY_LABELS or not text:
        return Filled("", "text", "text", {"text": "This preview is no longer valid; start over."})
    return Filled(f"broadcast {priority} {text}", "text", "text", {}, text)


def incident(values: Values) -> Filled:
    title, severity = " ".join(_typed(values, "title").split()), _selected(values, "severity")
    errors: dict[str, str] = {}
    if severity not in ("1", "2", "3"):
        errors["severity"] = "Choose severity 1, 2 or 3."
    if not title:
        errors["title"] = "Give the incident a title."
    elif '"' in title.translate(str.maketrans("“”„«»", '"""""')):
        errors["title"] = "Leave double quotes out of the title."
    elif len(title) > MAX_TITLE_CHARS:
        errors["title"] = (
            f"That title is {len(title):,} characters; the limit is {MAX_TITLE_CHARS}."
        )
    drill = " drill" if "drill" in _checked(values, "drill") else ""
    line = "" if errors else f'incident start "{title}" sev {severity}{drill}'
    return Filled(line, "title", "title", errors, title)
