"""A runbook file's shape (one YAML file per runbook in `runbooks/`), and its problems in words."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

StepId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", min_length=1, max_length=40)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One checklist item: what to do, who owns it, roughly how long it takes, what to watch."""

    id: StepId = Field(description="Short stable name, e.g. print-mars; progress is kept by it.")
    title: Annotated[Text, StringConstraints(max_length=150)] = Field(
        description="The action, in a few words."
    )
    detail: Annotated[Text, StringConstraints(max_length=2500)] = Field(
        description="How to do it, concretely enough to act on at 3 a.m."
    )
    owner: Annotated[Text, StringConstraints(max_length=80)] = Field(
        description="The HICS role (Incident Commander, IT Unit Leader, ...) or the department "
        "id (pharmacy, lab, ...) that does this step."
    )
    expected_minutes: int | None = Field(
        default=None, ge=1, le=1440, description="Roughly how long the step takes."
    )
    warning: Annotated[Text, StringConstraints(max_length=500)] | None = Field(
        default=None, description="What must not be done, or what goes wrong easily."
    )


class Runbook(_Strict):
    """A downtime procedure. Its id is its file name: runbooks/ehr-downtime.yaml → ehr-downtime."""

    model_config = ConfigDict(title="Lifeline runbook")

    title: Annotated[Text, StringConstraints(max_length=150)]
    summary: Annotated[Text, StringConstraints(max_length=1000)]
    when_to_use: Annotated[Text, StringConstraints(max_length=1000)]
    owner_role: Annotated[Text, StringConstraints(max_length=80)] = Field(
        description="The HICS role accountable for the whole runbook."
    )
    steps: list[Step] = Field(min_length=1, max_length=200, description="In the order done.")

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: list[Step]) -> list[Step]:
        first: dict[str, int] = {}
        for number, step in enumerate(steps, 1):
            if step.id in first:
                raise ValueError(
                    f"step id “{step.id}” is used by steps {first[step.id]} and {number}; "
                    "step ids must be unique"
                )
            first[step.id] = number
        return steps


def runbook_schema() -> dict[str, Any]:
    """The JSON Schema editors use (runbooks/schema.json is this, exported)."""
    return Runbook.model_json_schema()


def schema_text() -> str:
    return json.dumps(runbook_schema(), indent=2, ensure_ascii=False) + "\n"


def describe_errors(error: ValidationError) -> list[str]:
    """Each problem as `field: problem`, steps numbered from 1 as in the chat (`steps[3].title`)."""
    return [f"{_where(problem['loc'])}: {_what(problem)}" for problem in error.errors()]


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(loc):
        if isinstance(part, int) and index > 0 and loc[index - 1] == "steps":
            parts[-1] += f"[{part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def _what(problem: Any) -> str:
    kind = problem["type"]
    loc = problem["loc"]
    if kind == "missing":
        return "missing; it is required"
    if kind == "extra_forbidden":
        in_step = len(loc) > 2 and loc[0] == "steps"
        names = ", ".join(Step.model_fields if in_step else Runbook.model_fields)
        return f"unknown key; the keys are {names}"
    if kind == "too_short" and loc == ("steps",):
        return "list at least one step"
    if kind == "string_too_short":
        return "is empty"
    if kind == "string_pattern_mismatch":
        return "use lower-case letters, digits and dashes (at most 40), like print-mars"
    if kind == "string_too_long":
        return f"is too long; the limit is {problem['ctx']['max_length']:,} characters"
    message = str(problem["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
