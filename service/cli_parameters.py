"""The CLI's ``-p name=value`` parameters, typed by the skill's metadata from the API.

A command line only has strings; the API validates strictly (``"yes"`` is not a boolean),
so the CLI converts each value to the parameter's type first: booleans from
true/false/yes/no, numbers, lists as ``a,b,c`` or JSON. Names the skill does not know are
sent as given, and the API's validation names them.

Example:
    ```python
    metadata = {"parameters": {"testing": {"type": "boolean"}}}
    parse_parameter_assignments(["testing=no", "projectName=demo"], metadata)
    # {'testing': False, 'projectName': 'demo'}
    ```
"""

from __future__ import annotations

import json
from typing import Any

from skills.errors import FieldIssue, InvalidParametersError

_TRUE = frozenset({"true", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "no", "n", "off", "0"})


def parse_parameter_assignments(assignments: list[str], metadata: dict[str, Any]) -> dict[str, Any]:
    """``{name: typed value}`` for ``["name=value", ...]``; raises ``InvalidParametersError``."""
    specs = metadata.get("parameters") or {}
    values: dict[str, Any] = {}
    issues: list[FieldIssue] = []
    for assignment in assignments:
        name, separator, text = assignment.partition("=")
        name = name.strip()
        if not separator or not name:
            issues.append(FieldIssue(assignment, "is not name=value", "write -p projectName=my-app"))
            continue
        try:
            values[name] = convert_value(text, specs.get(name), _items_are_objects(metadata, name))
        except ValueError as exc:
            issues.append(FieldIssue(name, str(exc), _hint(specs.get(name))))
    if issues:
        raise InvalidParametersError(issues)
    return values


def convert_value(text: str, spec: dict[str, Any] | None, items_are_objects: bool = False) -> Any:
    """One command-line string as the type ``spec`` (the API's parameter metadata) names."""
    kind = (spec or {}).get("type", "text")
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{text!r} is not a boolean")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if kind == "list":
        return _list_value(text, items_are_objects)
    return text


def _list_value(text: str, items_are_objects: bool) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not a valid JSON list ({exc.msg})") from None
        if not isinstance(value, list):
            raise ValueError("is not a JSON list")
        return value
    if items_are_objects:
        raise ValueError("takes a JSON list of objects")
    return [item.strip() for item in stripped.split(",") if item.strip()]


def _items_are_objects(metadata: dict[str, Any], name: str) -> bool:
    """Whether the JSON Schema says the list parameter ``name`` holds objects."""
    schema = (metadata.get("parametersSchema") or {}).get("properties", {}).get(name, {})
    for variant in [schema, *schema.get("anyOf", [])]:
        if variant.get("type") == "array":
            return variant.get("items", {}).get("type") == "object"
    return False


def _hint(spec: dict[str, Any] | None) -> str:
    kind = (spec or {}).get("type")
    return {
        "boolean": "use true/false or yes/no",
        "number": "use a number such as 3 or 2.5",
        "list": "use a,b,c or a JSON list such as '[\"a\", \"b\"]'",
    }.get(kind or "", "")
