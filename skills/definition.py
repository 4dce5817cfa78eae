"""What a skill is: the front matter of its SKILL.md, parsed into typed models.

A skill is a folder holding ``SKILL.md`` (YAML front matter plus a human description),
``steps.py`` (one function per step) and optional ``templates/``. This module reads the
front matter; ``catalog`` finds folders and ``steps.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from skills.errors import SkillDefinitionError
from skills.origin import SkillOrigin

ParameterType = Literal["text", "boolean", "select", "number", "path", "list"]
Level = Literal["beginner", "intermediate", "expert"]
Persona = Literal["ai-engineer", "architect", "security", "devops", "full-stack"]
LEVELS: tuple[Level, ...] = ("beginner", "intermediate", "expert")
PERSONAS: tuple[Persona, ...] = ("ai-engineer", "architect", "security", "devops", "full-stack")

DEFAULT_STEP_TIMEOUT_SECONDS = 30.0
_ESTIMATE = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*(seconds?|minutes?|hours?)$")

_CONDITION = re.compile(r"^\s*(not\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:(==|!=)\s*(.+?))?\s*$")


class Condition(BaseModel):
    """A ``when:`` clause: ``flag``, ``not flag``, ``name == value`` or ``name != value``."""

    model_config = ConfigDict(frozen=True)

    source: str
    parameter: str
    negate: bool = False
    operator: Literal["truthy", "==", "!="] = "truthy"
    value: Any = None

    @classmethod
    def parse(cls, source: str) -> Condition:
        match = _CONDITION.match(source)
        if not match:
            raise ValueError(f"cannot read condition {source!r}; use 'name', 'not name' or 'name == value'")
        negate, parameter, operator, raw_value = match.groups()
        value = yaml.safe_load(raw_value) if raw_value is not None else None
        return cls(source=source, parameter=parameter, negate=bool(negate), operator=operator or "truthy", value=value)

    def holds(self, values: dict[str, Any]) -> bool:
        actual = values.get(self.parameter)
        if self.operator == "==":
            result = actual == self.value
        elif self.operator == "!=":
            result = actual != self.value
        else:
            result = bool(actual)
        return result != self.negate

    def describe(self, values: dict[str, Any]) -> str:
        """Why the condition does not hold, in words (for skipped steps and ignored parameters)."""
        return f"{self.parameter} is {values.get(self.parameter)!r} (needs {self.source})"


WhenClause = Annotated[
    Condition | None, BeforeValidator(lambda v: Condition.parse(v) if isinstance(v, str) else v)
]


class ParameterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: ParameterType
    description: str = ""
    required: bool = False
    default: Any = None
    pattern: str | None = None
    options: list[Any] | None = None
    recommended: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    items: Literal["text", "object"] = "text"
    when: WhenClause = None

    @model_validator(mode="after")
    def _check_shape(self) -> ParameterSpec:
        if self.type == "select" and not self.options:
            raise ValueError("a select parameter needs 'options'")
        if self.type != "select" and self.options:
            raise ValueError("only select parameters take 'options'")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    critical: bool = False
    timeout: float | None = None
    retries: int = Field(default=0, ge=0, le=10)
    when: WhenClause = None
    description: str = ""

    @property
    def function_name(self) -> str:
        return self.id.replace("-", "_")

    def title(self, values: dict[str, Any]) -> str:
        """The step's display name with ``{parameter}`` placeholders filled in."""
        return self.name.format_map(_Placeholders(values))


class TargetSpec(BaseModel):
    """The folder a skill works in, relative to the workspace root.

    ``new``: the skill creates it, so it must not exist or be empty.
    ``existing``: the skill changes an existing project, so it must exist.
    """

    model_config = ConfigDict(extra="forbid")

    path: str
    must: Literal["new", "existing"]

    def resolve(self, values: dict[str, Any]) -> str:
        return self.path.format_map(_Placeholders(values))


OutputType = Literal["text", "number", "boolean", "path", "list", "object"]
_OUTPUT_SOURCE = re.compile(r"^(target|files_created|params\.[A-Za-z_][A-Za-z0-9_]*|steps\.[a-z0-9][a-z0-9-]*\.[A-Za-z_][A-Za-z0-9_]*)$")


class OutputSpec(BaseModel):
    """A value a run returns, for workflows' templates (``{{node.outputs.name}}``).

    ``from`` says where it comes from: ``target`` (the folder the skill worked in, relative
    to the workspace), ``files_created`` (how many files the run created), ``params.<name>``
    (a validated parameter) or ``steps.<step id>.<key>`` (a key of what a step returned).
    Paths are relative to the workspace, so they can feed another skill's ``path`` parameter.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: OutputType
    description: str = ""
    source: str = Field(alias="from", pattern=_OUTPUT_SOURCE.pattern)


class SkillPermissions(BaseModel):
    """What a skill asks for beyond writing its target through the workspace.

    Marketplace skills run sandboxed with none of these unless declared (and, for the network,
    allowed by the user for that execution); the marketplace's scan flags undeclared use.
    """

    model_config = ConfigDict(extra="forbid")

    network: bool = False


class SkillDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    version: str = "1.0.0"
    category: str
    description: str
    estimated_time: str
    estimated_files: str = ""
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    steps: list[StepSpec]
    target: TargetSpec | None = None
    requires: dict[str, str] = Field(default_factory=dict)
    dependencies: dict[str, list[str]] = Field(default_factory=dict)
    tags: list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    permissions: SkillPermissions = Field(default_factory=SkillPermissions)
    outputs: dict[str, OutputSpec] = Field(default_factory=dict)
    body: str = ""
    folder: Path | None = None
    origin: SkillOrigin | None = None  # set by the catalog, never by the front matter

    @model_validator(mode="after")
    def _check_references(self) -> SkillDefinition:
        ids = [step.id for step in self.steps]
        if len(ids) != len(set(ids)):
            raise ValueError("step ids must be unique")
        conditions = [(f"step {s.id}", s.when) for s in self.steps]
        conditions += [(f"parameter {n}", p.when) for n, p in self.parameters.items()]
        for owner, condition in conditions:
            if condition and condition.parameter not in self.parameters:
                raise ValueError(f"{owner}: condition names unknown parameter {condition.parameter!r}")
        for name, output in self.outputs.items():
            kind, _, rest = output.source.partition(".")
            if kind == "params" and rest not in self.parameters:
                raise ValueError(f"output {name}: no parameter {rest!r}")
            if kind == "steps" and rest.partition(".")[0] not in ids:
                raise ValueError(f"output {name}: no step {rest.partition('.')[0]!r}")
        return self

    @property
    def sandboxed(self) -> bool:
        """Third-party code (installed or dev): its steps and templates run only in the sandbox."""
        return self.origin is not None and self.origin.sandboxed

    @property
    def estimated_seconds(self) -> float | None:
        """The middle of ``estimated_time`` ("3-5 minutes" -> 240), None if it cannot be read."""
        match = _ESTIMATE.match(self.estimated_time.strip())
        if not match:
            return None
        low, high, unit = match.groups()
        middle = (float(low) + float(high or low)) / 2
        return middle * (60 if unit.startswith("minute") else 3600 if unit.startswith("hour") else 1)

    @property
    def critical_step_count(self) -> int:
        return sum(step.critical for step in self.steps)


class _Placeholders(dict):
    """format_map source that leaves unknown placeholders visible instead of failing."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def parse_skill_markdown(text: str, folder: Path | None = None) -> SkillDefinition:
    """Parse a SKILL.md: YAML front matter between ``---`` lines, then Markdown.

    >>> parse_skill_markdown("---\\nid: x\\nname: X\\ncategory: c\\ndescription: d\\n"
    ...                      "estimated_time: 1 minute\\nsteps: [{id: a, name: A}]\\n---\\nHello").body
    'Hello'
    """
    where = str(folder / "SKILL.md") if folder else "SKILL.md"
    parts = text.split("---", 2) if text.startswith("---") else []
    if len(parts) != 3:
        raise SkillDefinitionError(f"{where}: must start with YAML front matter between '---' lines")
    try:
        front = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError as exc:
        raise SkillDefinitionError(f"{where}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(front, dict):
        raise SkillDefinitionError(f"{where}: front matter must be a mapping")
    try:
        return SkillDefinition.model_validate({**front, "body": parts[2].strip(), "folder": folder, "origin": None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SkillDefinitionError(f"{where}: {problems}") from exc


def load_skill_definition(folder: Path) -> SkillDefinition:
    return parse_skill_markdown((folder / "SKILL.md").read_text(encoding="utf-8"), folder)
