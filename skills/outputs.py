"""A run's declared outputs (``outputs:`` in SKILL.md), taken from what the run did.

The same function gives the dry run's planned values (from a pretending workspace: values
only a real run knows, like a built image's id, are ``None`` there) and the real run's.
"""

from __future__ import annotations

from typing import Any

from skills.context import StepContext
from skills.definition import OutputSpec


def skill_outputs(context: StepContext) -> dict[str, Any]:
    """Every declared output of ``context.skill``, by name, from the run in ``context``."""
    return {name: _value(spec, context) for name, spec in context.skill.outputs.items()}


def _value(spec: OutputSpec, context: StepContext) -> Any:
    kind, _, rest = spec.source.partition(".")
    if kind == "target":
        return context.target
    if kind == "files_created":
        return sum(1 for c in context.own_changes if c.kind == "create" and not c.is_dir)
    if kind == "params":
        return context.params.get(rest)
    step_id, _, key = rest.partition(".")
    returned = context.outputs.get(step_id)
    return returned.get(key) if isinstance(returned, dict) else None
