"""What a workflow is: a YAML (or JSON) spec of skill nodes and the edges between them.

```yaml
id: full-stack-starter
name: Full-stack starter
parameters:                      # typed inputs, the same types as a skill's
  name: {type: text, required: true, pattern: '^[a-z0-9][a-z0-9-]*$'}
nodes:
  - id: frontend
    skill: react-setup
    parameters: {projectName: "{{inputs.name}}-web"}
  - id: frontend-image
    skill: docker-config
    depends_on: [frontend]
    parameters: {projectPath: "{{frontend.outputs.outputPath}}"}
    when: "inputs.containerise"   # a condition on inputs and upstream outputs
    retries: 1
    timeout: 600
    on_failure: stop              # or continue
    approval: true                # pause until someone confirms
```

A node runs a ``skill`` or a sub-``workflow``; ``for_each`` maps it over a list (a template
like ``{{inputs.services}}``, or a list of values and templates; ``{{item}}`` is the element,
and the node's outputs become a list). Keys may be written in snake_case
(YAML) or camelCase (JSON bodies). This module parses and checks the shape; everything that
needs the catalog (skills, outputs, parameters, cycles) is ``validation``'s.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from skills.definition import ParameterSpec, SkillDefinition
from skills.errors import UserMessageError

_ID = r"^[a-z0-9][a-z0-9-]*$"


def _either(name: str) -> AliasChoices:
    """Accept a field by its snake_case name (YAML) and its camelCase name (JSON)."""
    return AliasChoices(name, to_camel(name))


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=_ID, max_length=64)
    name: str | None = None
    skill: str | None = None
    workflow: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list, validation_alias=_either("depends_on"))
    when: str | None = None
    retries: int = Field(default=0, ge=0, le=10)
    timeout: float | None = Field(default=None, gt=0, le=24 * 3600)
    on_failure: Literal["stop", "continue"] = Field(default="stop", validation_alias=_either("on_failure"))
    # A template giving a list ("{{inputs.services}}"), or a list of values and templates.
    for_each: str | list[Any] | None = Field(default=None, validation_alias=_either("for_each"))
    approval: bool = False

    @field_validator("depends_on", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def runs(self) -> str:
        """What the node runs, for messages: ``skill react-setup`` or ``workflow x``."""
        return f"skill {self.skill}" if self.skill else f"workflow {self.workflow}"

    def title(self) -> str:
        return self.name or self.id


class WorkflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=_ID, max_length=64)
    name: str
    version: str = "1.0.0"
    description: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    nodes: list[NodeSpec] = Field(min_length=1, max_length=200)

    def node(self, node_id: str) -> NodeSpec:
        return next(node for node in self.nodes if node.id == node_id)

    def input_definition(self) -> SkillDefinition:
        """The workflow's inputs as a skill's parameters: validated by the same code, same types."""
        return SkillDefinition(
            id=self.id, name=self.name, category="workflow", description=self.description or self.name,
            estimated_time="", parameters=self.parameters, steps=[],
        )


class InvalidWorkflowSpecError(UserMessageError):
    """The spec is not a workflow at all (bad YAML, wrong shape); ``problems`` lists each one."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems  # (field, reason)
        listed = "; ".join(f"{where}: {reason}" for where, reason in problems)
        super().__init__(f"not a valid workflow spec: {listed}", ["see GET /api/workflows/schema for the format"])


def parse_workflow(source: str | dict[str, Any]) -> WorkflowSpec:
    """A spec from YAML text or an already parsed mapping; every shape problem at once."""
    if isinstance(source, str):
        try:
            source = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise InvalidWorkflowSpecError([("spec", f"not valid YAML: {exc}")]) from None
    if not isinstance(source, dict):
        raise InvalidWorkflowSpecError([("spec", "must be a mapping with id, name and nodes")])
    try:
        spec = WorkflowSpec.model_validate(source)
    except ValidationError as exc:
        raise InvalidWorkflowSpecError([(_location(error["loc"], source), error["msg"]) for error in exc.errors()]) from None
    problems = [
        (f"nodes.{node.id}", "needs exactly one of 'skill' and 'workflow'")
        for node in spec.nodes if (node.skill is None) == (node.workflow is None)
    ]
    ids = [node.id for node in spec.nodes]
    problems += [(f"nodes.{node_id}", "node ids must be unique") for node_id in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise InvalidWorkflowSpecError(problems)
    return spec


def _location(loc: tuple[Any, ...], source: dict[str, Any]) -> str:
    """``nodes.frontend.retries`` rather than ``nodes.0.retries``: the node's id, where it has one."""
    parts = [str(part) for part in loc]
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = source.get("nodes")
        if isinstance(nodes, list) and loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict) and nodes[loc[1]].get("id"):
            parts[1] = str(nodes[loc[1]]["id"])
    return ".".join(parts)


def workflow_json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec (served by the API), in the snake_case spelling YAML files use."""
    return WorkflowSpec.model_json_schema(by_alias=False)
