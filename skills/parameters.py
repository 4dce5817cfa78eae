"""A skill's parameters as a pydantic model, its JSON Schema, and validation.

Validation answers with one ``FieldIssue`` per problem (field, reason, what to do), drops
parameters whose ``when`` condition does not hold (saying why), and returns the values
the steps will see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from skills.definition import ParameterSpec, SkillDefinition
from skills.errors import FieldIssue


def check_relative_path(value: str) -> str:
    """A ``path`` parameter: relative, inside the workspace, no tricks."""
    if "\x00" in value:
        raise ValueError("must not contain NUL bytes")
    path = PurePosixPath(value)
    if not value.strip() or path.is_absolute() or value.startswith("~"):
        raise ValueError("must be a relative path inside the workspace")
    if ".." in path.parts:
        raise ValueError("must not contain '..'")
    return value


WorkspacePath = Annotated[str, AfterValidator(check_relative_path)]


def _annotation(spec: ParameterSpec) -> Any:
    if spec.type == "boolean":
        return bool
    if spec.type == "number":
        return float
    if spec.type == "select":
        return Literal[tuple(spec.options)]  # type: ignore[misc]
    if spec.type == "path":
        return WorkspacePath
    if spec.type == "list":
        return list[dict[str, Any]] if spec.items == "object" else list[str]
    return str


def _field(name: str, spec: ParameterSpec) -> Any:
    constraints: dict[str, Any] = {"title": name, "description": spec.description or None}
    if spec.type == "text":
        constraints.update(pattern=spec.pattern, max_length=spec.max_length, min_length=1 if spec.required else None)
    if spec.type == "number":
        constraints.update(ge=spec.minimum, le=spec.maximum)
    if spec.recommended is not None:
        constraints["json_schema_extra"] = {"recommended": spec.recommended}
    constraints = {key: value for key, value in constraints.items() if value is not None}
    if spec.required and spec.when is None:
        return Field(..., **constraints)
    return Field(default=spec.default, **constraints)


@lru_cache(maxsize=None)
def _parameter_model(skill_id: str, definition_json: str) -> type[BaseModel]:
    skill = SkillDefinition.model_validate_json(definition_json)
    fields: dict[str, Any] = {}
    for name, spec in skill.parameters.items():
        annotation = _annotation(spec)
        if not spec.required or spec.when is not None:
            annotation = annotation | None if spec.default is None else annotation
        fields[name] = (annotation, _field(name, spec))
    class_name = "".join(part.title() for part in skill_id.split("-")) + "Parameters"
    return create_model(  # type: ignore[call-overload]
        class_name,
        __config__=ConfigDict(extra="forbid", strict=True, title=f"{skill.name} parameters"),
        **fields,
    )


def parameter_model(skill: SkillDefinition) -> type[BaseModel]:
    """The pydantic model of a skill's parameters (cached per definition).

    It forbids unknown fields and converts nothing: ``"yes"`` is not a boolean.
    """
    return _parameter_model(skill.id, skill.model_dump_json(exclude={"folder", "body"}))


def parameter_json_schema(skill: SkillDefinition) -> dict[str, Any]:
    return parameter_model(skill).model_json_schema()


@dataclass
class ParameterValidation:
    """The outcome of validating one set of parameters."""

    values: dict[str, Any] = field(default_factory=dict)
    issues: list[FieldIssue] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.issues


def validate_parameters(skill: SkillDefinition, raw: Any) -> ParameterValidation:
    """Validate ``raw`` against ``skill``'s parameters.

    >>> from skills.catalog import load_builtin_catalog
    >>> react = load_builtin_catalog().get("react-setup")
    >>> validate_parameters(react, {"projectName": "My App"}).issues[0].field
    'projectName'
    """
    if not isinstance(raw, dict):
        return ParameterValidation(issues=[FieldIssue("parameters", "must be a JSON object", "send {\"name\": value, ...}")])
    result = ParameterValidation()
    supplied = dict(raw)
    for name, spec in skill.parameters.items():
        if spec.when is None:
            continue
        context = {n: supplied.get(n, s.default) for n, s in skill.parameters.items()}
        if not spec.when.holds(context):
            if name in supplied:
                result.ignored[name] = f"ignored because {spec.when.describe(context)}"
            supplied.pop(name, None)
        elif spec.required and supplied.get(name) in (None, ""):
            result.issues.append(FieldIssue(name, "is required", f"needed because {spec.when.source}"))
    try:
        model = parameter_model(skill).model_validate(supplied)
    except ValidationError as exc:
        result.issues.extend(_field_issue(skill, error) for error in exc.errors())
        return result
    values = model.model_dump()
    result.values = {name: value for name, value in values.items() if name not in _inactive(skill, values)}
    return result


def _inactive(skill: SkillDefinition, values: dict[str, Any]) -> set[str]:
    return {name for name, spec in skill.parameters.items() if spec.when and not spec.when.holds(values)}


def _field_issue(skill: SkillDefinition, error: Any) -> FieldIssue:
    location = [str(part) for part in error["loc"]]
    name = location[0] if location else "parameters"
    spec = skill.parameters.get(name)
    kind = error["type"]
    if kind == "extra_forbidden":
        return FieldIssue(name, "is not a parameter of this skill", f"known parameters: {', '.join(skill.parameters)}")
    if kind == "missing":
        return FieldIssue(name, "is required", spec.description if spec else "")
    if spec is None:
        return FieldIssue(".".join(location), error["msg"])
    hint = {
        "literal_error": f"choose one of: {', '.join(map(str, spec.options or []))}",
        "string_pattern_mismatch": spec.description or f"must match {spec.pattern}",
        "bool_type": "use true or false",
    }.get(kind, spec.description)
    reason = error["msg"][0].lower() + error["msg"][1:]
    return FieldIssue(".".join(location), re.sub(r"^value error, ", "", reason), hint)
