"""Pre-flight checks and the dry run.

``preflight`` validates parameters, level, persona, the target folder and the
environment. ``plan_skill`` then runs every active step function against a pretending
workspace — the same code the real run executes — and reports the steps that will run or
be skipped, the exact files, the commands and the persona changes. It changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from skills.catalog import step_functions
from skills.context import StepContext
from skills.definition import LEVELS, PERSONAS, Level, Persona, SkillDefinition, StepSpec
from skills.environment import EnvironmentReport, check_environment
from skills.errors import FieldIssue, UserMessageError
from skills.parameters import ParameterValidation, validate_parameters
from skills.workspace import Workspace


class WireModel(BaseModel):
    """Serialises with camelCase names, as the documented API does."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Preflight(WireModel):
    """Everything known before the first step runs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    values: dict[str, Any] = Field(default_factory=dict)
    errors: list[FieldIssue] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    ignored_parameters: dict[str, str] = Field(default_factory=dict)
    target: str | None = None
    environment: EnvironmentReport = Field(default_factory=EnvironmentReport, exclude=True)

    @property
    def ok(self) -> bool:
        return not self.errors


class PlannedStep(WireModel):
    index: int
    id: str
    name: str
    critical: bool
    status: Literal["run", "skip", "not-implemented"]
    reason: str | None = None
    timeout_seconds: float | None = None
    retries: int = 0
    files: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    persona_changes: list[str] = Field(default_factory=list)


class ExecutionPlan(WireModel):
    skill: str
    skill_id: str
    parameters: dict[str, Any]
    level: str
    persona: str
    steps: list[PlannedStep]
    files: list[str]
    directories: list[str]
    commands: list[str]
    persona_changes: list[str]
    ignored_parameters: dict[str, str]
    estimated_total_time: str
    estimated_output_files: int
    output_path: str | None


def preflight(
    skill: SkillDefinition, raw_parameters: Any, level: Any, persona: Any, workspace_root: Path
) -> Preflight:
    """Validate everything a run depends on; never raises for bad input, reports it."""
    validation = validate_parameters(skill, raw_parameters)
    result = Preflight(
        values=validation.values, errors=list(validation.issues), ignored_parameters=validation.ignored
    )
    if level not in LEVELS:
        result.errors.append(FieldIssue("level", f"{level!r} is not a level", f"use one of: {', '.join(LEVELS)}"))
    if persona not in PERSONAS:
        result.errors.append(
            FieldIssue("persona", f"{persona!r} is not a persona", f"use one of: {', '.join(PERSONAS)}")
        )
    if validation.valid:
        result.target = _check_target(skill, validation, workspace_root, result.errors)
    result.environment = check_environment(skill.requires)
    result.errors.extend(FieldIssue("environment", message) for message in result.environment.errors)
    result.warnings.extend(result.environment.warnings)
    return result


def _check_target(
    skill: SkillDefinition, validation: ParameterValidation, workspace_root: Path, errors: list[FieldIssue]
) -> str | None:
    if skill.target is None:
        return None
    field_name = _placeholder_field(skill.target.path)
    workspace = Workspace(workspace_root, pretend=True)
    try:
        relative = workspace.relative(skill.target.resolve(validation.values))
    except UserMessageError as exc:
        errors.append(FieldIssue(field_name, exc.message, "use a folder name inside the workspace"))
        return None
    folder = workspace.root / relative
    if skill.target.must == "new" and not workspace.is_empty_dir_or_missing(relative):
        errors.append(
            FieldIssue(field_name, f"folder {folder} already exists and is not empty", "choose another name or move that folder away")
        )
    if skill.target.must == "existing" and not folder.is_dir():
        errors.append(FieldIssue(field_name, f"folder {folder} does not exist", "give a project folder inside the workspace"))
    return relative


def _placeholder_field(template: str) -> str:
    match = re.search(r"\{(\w+)\}", template)
    return match.group(1) if match else "target"


def step_skip_reason(step: StepSpec, values: dict[str, Any]) -> str | None:
    """Why ``step`` will not run with these parameter values, or None if it will."""
    if step.when is None or step.when.holds(values):
        return None
    return f"skipped because {step.when.describe(values)}"


def plan_skill(
    skill: SkillDefinition,
    raw_parameters: Any,
    level: Level | str,
    persona: Persona | str,
    workspace_root: Path,
) -> tuple[Preflight, ExecutionPlan | None]:
    """The dry run: pre-flight, then every active step against a pretending workspace.

    Returns the pre-flight and, when it passed, the plan.
    """
    checked = preflight(skill, raw_parameters, level, persona, workspace_root)
    if not checked.ok:
        return checked, None
    context = StepContext(
        skill=skill,
        params=checked.values,
        level=level,  # type: ignore[arg-type]
        persona=persona,  # type: ignore[arg-type]
        workspace=Workspace(workspace_root, pretend=True),
        environment=checked.environment,
    )
    functions = step_functions(skill)
    planned: list[PlannedStep] = []
    for index, step in enumerate(skill.steps, start=1):
        try:
            planned.append(_plan_step(index, step, context, functions.get(step.id)))
        except UserMessageError as exc:
            # A step that refuses in the dry run (a project folder that is not there) would
            # refuse the real run too: report it like any pre-flight error.
            checked.errors.append(FieldIssue(step.id, exc.message, " ".join(exc.suggestions)))
            return checked, None
    missing = [step.name for step in planned if step.status == "not-implemented"]
    if missing:
        checked.warnings.append(f"not implemented yet, so executing this skill fails at: {', '.join(missing)}")
    return checked, _assemble_plan(skill, context, planned, checked)


def _plan_step(index: int, step: StepSpec, context: StepContext, function: Any) -> PlannedStep:
    base = dict(
        index=index, id=step.id, name=step.title(context.params), critical=step.critical,
        timeout_seconds=step.timeout, retries=step.retries,
    )
    reason = step_skip_reason(step, context.params)
    if reason:
        return PlannedStep(**base, status="skip", reason=reason)
    if function is None:
        return PlannedStep(**base, status="not-implemented", reason="this step has no implementation yet")
    changes_before = len(context.workspace.changes)
    commands_before, persona_before = len(context.commands), len(context.persona_changes)
    context.begin_step(step.id)
    context.outputs[step.id] = function(context)
    new_changes = context.workspace.changes[changes_before:]
    return PlannedStep(
        **base,
        status="run",
        files=[c.path for c in new_changes if not c.is_dir],
        commands=[" ".join(c.argv) for c in context.commands[commands_before:]],
        persona_changes=[p.change for p in context.persona_changes[persona_before:]],
    )


def _assemble_plan(
    skill: SkillDefinition, context: StepContext, steps: list[PlannedStep], checked: Preflight
) -> ExecutionPlan:
    changes = context.workspace.changes
    files = list(dict.fromkeys(c.path for c in changes if not c.is_dir))
    return ExecutionPlan(
        skill=skill.name,
        skill_id=skill.id,
        parameters=checked.values,
        level=context.level,
        persona=context.persona,
        steps=steps,
        files=files,
        directories=list(dict.fromkeys(c.path for c in changes if c.is_dir)),
        commands=[command for step in steps for command in step.commands],
        persona_changes=[change for step in steps for change in step.persona_changes],
        ignored_parameters=checked.ignored_parameters,
        estimated_total_time=skill.estimated_time,
        estimated_output_files=len(files),
        output_path=checked.target,
    )
