"""Request and response models of the workflow API (camelCase on the wire)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from skills.planning import WireModel
from skills.workflows.validation import Problem, WorkflowPlan


class WorkflowRequest(WireModel):
    """A workflow to check or run: a ``spec`` given here, or the id of a built-in or saved one."""

    spec: dict[str, Any] | str | None = None  # a mapping, or YAML text
    workflow_id: str | None = Field(default=None, max_length=64)
    inputs: dict[str, Any] = Field(default_factory=dict)
    level: Literal["beginner", "intermediate", "expert"] = "intermediate"
    persona: Literal["ai-engineer", "architect", "security", "devops", "full-stack"] = "full-stack"

    @model_validator(mode="after")
    def _one_source(self) -> WorkflowRequest:
        if (self.spec is None) == (self.workflow_id is None):
            raise ValueError("give exactly one of 'spec' and 'workflowId'")
        return self


class WorkflowValidationResponse(WireModel):
    valid: bool
    problems: list[Problem]
    plan: WorkflowPlan | None


class SaveWorkflowRequest(WireModel):
    spec: dict[str, Any] | str


class WorkflowSummary(WireModel):
    id: str
    name: str
    version: str
    description: str
    source: Literal["builtin", "saved"]
    deployment: str
    nodes: int


class WorkflowList(WireModel):
    workflows: list[WorkflowSummary]
    count: int


class WorkflowDetail(WorkflowSummary):
    spec: dict[str, Any]


class NodeExecution(WireModel):
    """A node of a workflow execution, in the history."""

    node_id: str
    status: str
    execution_ids: list[str]
    reason: str | None = None
