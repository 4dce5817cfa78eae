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

from pydantic import ConfigDict, Field

from skills.catalog import step_functions
from skills.context import StepContext
from skills.definition import LEVELS, PERSONAS, Level, Persona, SkillDefinition, StepSpec
from skills.environment import EnvironmentReport, check_environment
from skills.errors import FieldIssue, PathOutsideWorkspaceError, UserMessageError
from skills.estimates import MeasuredDuration
from skills.outputs import skill_outputs
from skills.parameters import ParameterValidation, validate_parameters
from skills.runner import StepHooks, StepRun, run_steps_blocking
from skills.wire import WireModel
from skills.workspace import Workspace


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
    measured_time: MeasuredDuration | None = None  # from this skill's past runs, when there are enough
    estimated_output_files: int
    output_path: str | None
    outputs: dict[str, Any] = Field(default_factory=dict)  # planned values; None where only a real run knows


def preflight(
    skill: SkillDefinition, raw_parameters: Any, level: Any, persona: Any, workspace_root: Path,
    workspace: Workspace | None = None,
) -> Preflight:
    """Validate everything a run depends on; never raises for bad input, reports it.

    ``workspace`` is a pretending one a chained dry run shares (see ``plan_skill``)."""
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
        workspace = workspace or Workspace(workspace_root, pretend=True)
        result.target = _check_target(skill, validation, workspace, result.errors)
    result.environment = check_environment(skill.requires)
    result.errors.extend(FieldIssue("environment", message) for message in result.environment.errors)
    result.warnings.extend(result.environment.warnings)
    return result


def _check_target(
    skill: SkillDefinition, validation: ParameterValidation, workspace: Workspace, errors: list[FieldIssue]
) -> str | None:
    if skill.target is None:
        return None
    field_name = _placeholder_field(skill.target.path)
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
    if skill.target.must == "existing" and not workspace.is_dir(relative):
        errors.append(FieldIssue(field_name, f"folder {folder} does not exist", "give a project folder inside the workspace"))
    return relative


def _placeholder_field(template: str) -> str:
    match = re.search(r"\{(\w+)\}", template)
    return match.group(1) if match else "target"


def plan_skill(
    skill: SkillDefinition,
    raw_parameters: Any,
    level: Level | str,
    persona: Persona | str,
    workspace_root: Path,
    workspace: Workspace | None = None,
) -> tuple[Preflight, ExecutionPlan | None]:
    """The dry run: pre-flight, then every active step against a pretending workspace.

    Returns the pre-flight and, when it passed, the plan. ``workspace`` (pretending) lets a
    workflow chain dry runs: a node sees the files its upstream nodes would have created.
    """
    workspace = workspace or Workspace(workspace_root, pretend=True)
    checked = preflight(skill, raw_parameters, level, persona, workspace_root, workspace)
    if not checked.ok:
        return checked, None
    context = StepContext(
        skill=skill,
        params=checked.values,
        level=level,  # type: ignore[arg-type]
        persona=persona,  # type: ignore[arg-type]
        workspace=workspace,
        environment=checked.environment,
        first_change=len(workspace.changes),
    )
    dry_run = _DryRun(context)
    try:
        run_steps_blocking(context, step_functions(skill), dry_run)
    except (UserMessageError, OSError) as exc:
        # A step that refuses in the dry run (a project folder that is not there, a name
        # too long for the file system) would refuse the real run too: report it like
        # any pre-flight error, on the parameter at fault when the step names it.
        assert dry_run.current is not None, "only steps raise here"
        checked.errors.append(_step_refusal(skill, dry_run.current.spec, exc))
        return checked, None
    missing = [step.name for step in dry_run.planned if step.status == "not-implemented"]
    if missing:
        checked.warnings.append(f"not implemented yet, so executing this skill fails at: {', '.join(missing)}")
    return checked, _assemble_plan(skill, context, dry_run.planned, checked)


class _DryRun(StepHooks):
    """Records, per step, what the pretending run did."""

    def __init__(self, context: StepContext) -> None:
        self.context = context
        self.planned: list[PlannedStep] = []
        self.current: StepRun | None = None
        self._commands_before = self._persona_before = 0

    def _base(self, step: StepRun) -> dict[str, Any]:
        spec = step.spec
        return dict(
            index=step.index, id=spec.id, name=step.name, critical=spec.critical,
            timeout_seconds=spec.timeout, retries=spec.retries,
        )

    async def skipped(self, step: StepRun, reason: str) -> None:
        self.planned.append(PlannedStep(**self._base(step), status="skip", reason=reason))

    async def missing(self, step: StepRun) -> None:
        self.planned.append(
            PlannedStep(**self._base(step), status="not-implemented", reason="this step has no implementation yet")
        )

    async def before(self, step: StepRun) -> None:
        self.current = step
        self._commands_before = len(self.context.commands)
        self._persona_before = len(self.context.persona_changes)

    async def completed(self, step: StepRun, output: Any) -> None:
        self.planned.append(PlannedStep(
            **self._base(step),
            status="run",
            files=[c.path for c in step.changes if not c.is_dir],
            commands=[" ".join(c.argv) for c in self.context.commands[self._commands_before:]],
            persona_changes=[p.change for p in self.context.persona_changes[self._persona_before:]],
        ))


def _step_refusal(skill: SkillDefinition, step: StepSpec, error: UserMessageError | OSError) -> FieldIssue:
    target_field = _placeholder_field(skill.target.path) if skill.target else None
    if isinstance(error, UserMessageError):
        # A path refused inside a step is one under the target folder the parameters named.
        at_fault = error.field or (target_field if isinstance(error, PathOutsideWorkspaceError) else None)
        return FieldIssue(at_fault or step.id, error.message, " ".join(error.suggestions))
    where = f" ({error.filename})" if error.filename else ""
    return FieldIssue(target_field or step.id, f"{error.strerror or error}{where}", "check the paths this skill is given")


def _assemble_plan(
    skill: SkillDefinition, context: StepContext, steps: list[PlannedStep], checked: Preflight
) -> ExecutionPlan:
    changes = context.own_changes
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
        outputs=skill_outputs(context),
    )
