"""Request and response models of the REST API (camelCase on the wire, as documented)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from service.workflow_schemas import NodeExecution
from skills.definition import SkillDefinition
from skills.estimates import MeasuredTime
from skills.parameters import parameter_json_schema
from skills.planning import ExecutionPlan, WireModel


class ErrorBody(WireModel):
    """Every error answer: what went wrong, a stable code, and details to act on."""

    error: str
    code: str
    details: Any = None


class SkillRequest(WireModel):
    skill_id: str = Field(min_length=1, max_length=100)
    parameters: dict[str, Any] = Field(default_factory=dict)
    level: str = "intermediate"
    persona: str = "full-stack"


class ValidateRequest(SkillRequest):
    """``POST /api/validate-skill``: the dry run."""


class ExecuteRequest(SkillRequest):
    """``POST /api/execute-skill``: start a run and stream it."""

    # Lets a sandboxed skill that declares `permissions: {network: true}` reach the network in this run.
    allow_network: bool = False


class ConfirmRequest(WireModel):
    proceed: bool


class ParameterInfo(WireModel):
    type: str
    description: str
    required: bool
    default: Any = None
    options: list[Any] | None = None
    recommended: Any = None
    pattern: str | None = None
    when: str | None = None


class StepInfo(WireModel):
    index: int
    id: str
    name: str
    critical: bool
    timeout_seconds: float | None
    retries: int
    when: str | None


class SkillMetadata(WireModel):
    id: str
    name: str
    version: str
    category: str
    description: str
    estimated_time: str
    measured_time: MeasuredTime | None = None  # from the skill's completed runs, once there are enough
    estimated_files: str
    parameters: dict[str, ParameterInfo]
    parameters_schema: dict[str, Any]
    steps: list[StepInfo]
    total_steps: int
    critical_steps: int
    requires: dict[str, str]
    source: str  # builtin | local | installed | dev
    trust: str  # built-in | operator | signed (marketplace: digest and signature checked) | unsigned (dev)
    digest: str  # sha256 of the marketplace package, or of the skill folder's files
    publisher: str | None = None
    sandboxed: bool  # third-party code: runs only in the sandbox
    network: bool  # declares it needs the network (a sandboxed run gets it only with allowNetwork)
    folder: str | None = None  # a dev skill's folder (so `skillworks dev` can tell which skills are its)

    @classmethod
    def of(cls, skill: SkillDefinition) -> SkillMetadata:
        origin = skill.origin
        return cls(
            source=origin.source if origin else "local",
            trust=origin.trust if origin else "operator",
            digest=origin.digest if origin else "",
            publisher=origin.publisher if origin else None,
            sandboxed=skill.sandboxed,
            network=skill.permissions.network,
            folder=str(skill.folder) if origin and origin.source == "dev" else None,
            id=skill.id,
            name=skill.name,
            version=skill.version,
            category=skill.category,
            description=skill.description,
            estimated_time=skill.estimated_time,
            estimated_files=skill.estimated_files,
            parameters={
                name: ParameterInfo(
                    type=spec.type, description=spec.description, required=spec.required, default=spec.default,
                    options=spec.options, recommended=spec.recommended, pattern=spec.pattern,
                    when=spec.when.source if spec.when else None,
                )
                for name, spec in skill.parameters.items()
            },
            parameters_schema=parameter_json_schema(skill),
            steps=[
                StepInfo(
                    index=index, id=step.id, name=step.name, critical=step.critical,
                    timeout_seconds=step.timeout, retries=step.retries, when=step.when.source if step.when else None,
                )
                for index, step in enumerate(skill.steps, start=1)
            ],
            total_steps=len(skill.steps),
            critical_steps=skill.critical_step_count,
            requires=skill.requires,
        )


class CatalogProblem(WireModel):
    """A skill folder that failed to load: where, from which source, why, and what still serves."""

    folder: str
    source: str
    error: str
    skill_id: str | None = None
    serving_previous: bool = False


class SkillCatalogResponse(WireModel):
    skills: list[SkillMetadata]
    count: int
    problems: list[CatalogProblem] = Field(default_factory=list)


class FieldError(WireModel):
    field: str
    reason: str
    hint: str


class ValidationResponse(WireModel):
    skill_id: str
    valid: bool
    errors: list[FieldError]
    warnings: list[str]
    dry_run_preview: ExecutionPlan | None


class ExecutionRecord(WireModel):
    id: str
    skill_id: str | None
    skill_name: str | None
    parameters: dict[str, Any]
    level: str | None
    persona: str | None
    status: str
    state_name: str
    message: str | None
    timestamp: str | None
    duration: str
    rollback_token: str
    rolled_back_at: str | None = None
    prefect_url: str | None
    kind: Literal["skill", "workflow"] = "skill"
    workflow_id: str | None = None  # a workflow's run, or the workflow a node run belongs to
    nodes: list[NodeExecution] | None = None  # a workflow's run: its nodes
    node_id: str | None = None  # a node's run: which node
    workflow_execution_id: str | None = None  # a node's run: the workflow run it belongs to


class ExecutionHistory(WireModel):
    executions: list[ExecutionRecord]
    count: int


class ConfirmResponse(WireModel):
    execution_id: str
    proceed: bool


class CancelResponse(WireModel):
    execution_id: str
    state: str


class RollbackRequest(WireModel):
    rollback_token: str = Field(min_length=1, max_length=100)
    force: bool = False


class RollbackResponse(WireModel):
    execution_id: str
    rollback_run_id: str
    already_rolled_back: bool
    deleted: list[str]
    restored: list[str]
    conflicts: list[str] = Field(description="The run's own changes left in place (edited since, or behind a symlink)")
    kept: list[str] = Field(description="Folders the run created, left because others put files in them")
    reasons: dict[str, str] = Field(description="Why each conflict or kept folder was left")
    rolled_back_at: str | None
