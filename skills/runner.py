"""The one loop over a skill's steps, with a hook around each step.

The dry run (``skills.planning``), the Prefect flow (``flows.step_tasks``), the tests and the
benchmarks all walk a skill's steps through ``run_steps``; what differs between them is
what happens around a step, and that is what ``StepHooks`` says:

- ``skip_reason``: why a step does not run (its ``when`` is false; a retry reuses it);
- ``skipped`` / ``missing``: a step that does not run, or has no code;
- ``before``: just before it runs (the flow pauses here and reports progress);
- ``call``: how one attempt is made (directly; the flow wraps it in a Prefect task with the
  step's retries and timeout, and may return ``None`` for a non-critical failure);
- ``completed``: after it ran, with the changes it made.

The base class is the plain run: every active step, in order, any failure propagates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skills.catalog import StepFunction
from skills.context import StepContext
from skills.definition import StepSpec
from skills.errors import UserMessageError
from skills.workspace import FileChange


@dataclass
class StepRun:
    """One step on its way through the loop."""

    index: int  # 1-based, as shown to users
    total: int
    spec: StepSpec
    name: str  # the display name, placeholders filled in
    changes: list[FileChange] = field(default_factory=list)  # what it changed, once it ran
    duration_ms: int = 0  # of its last attempt, where a hook measures it

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def files_created(self) -> int:
        return sum(1 for change in self.changes if change.kind == "create" and not change.is_dir)


class StepNotImplementedError(UserMessageError):
    def __init__(self, step: StepRun) -> None:
        super().__init__(
            f"step {step.name!r} has no implementation",
            [f"define {step.spec.function_name}(ctx) in the skill's steps.py"],
        )


def step_skip_reason(step: StepSpec, values: dict[str, Any]) -> str | None:
    """Why ``step`` will not run with these parameter values, or None if it will."""
    if step.when is None or step.when.holds(values):
        return None
    return f"skipped because {step.when.describe(values)}"


Attempt = Callable[[], Any]


class StepHooks:
    """The plain run; subclasses change what happens around each step."""

    def skip_reason(self, step: StepRun, context: StepContext) -> str | None:
        return step_skip_reason(step.spec, context.params)

    async def skipped(self, step: StepRun, reason: str) -> None:
        return None

    async def missing(self, step: StepRun) -> None:
        raise StepNotImplementedError(step)

    async def before(self, step: StepRun) -> None:
        return None

    async def call(self, step: StepRun, attempt: Attempt) -> Any:
        return attempt()

    async def completed(self, step: StepRun, output: Any) -> None:
        return None


async def run_steps(context: StepContext, functions: Mapping[str, StepFunction], hooks: StepHooks) -> None:
    """Walk ``context.skill``'s steps in order; each active step's output lands in ``context.outputs``."""
    steps = context.skill.steps
    for index, spec in enumerate(steps, start=1):
        step = StepRun(index, len(steps), spec, spec.title(context.params))
        reason = hooks.skip_reason(step, context)
        if reason is not None:
            await hooks.skipped(step, reason)
            continue
        function = functions.get(spec.id)
        if function is None:
            await hooks.missing(step)
            continue
        await hooks.before(step)
        changes_before = len(context.workspace.changes)

        def attempt(spec: StepSpec = spec, function: StepFunction = function) -> Any:
            # Every attempt (Prefect's retries call it again) starts the step afresh.
            context.begin_step(spec)
            return function(context)

        output = await hooks.call(step, attempt)
        context.outputs[spec.id] = output
        step.changes = context.workspace.changes[changes_before:]
        await hooks.completed(step, output)


def run_steps_blocking(context: StepContext, functions: Mapping[str, StepFunction], hooks: StepHooks | None = None) -> None:
    """``run_steps`` for callers without an event loop (the dry run in a thread, tests, bench)."""
    asyncio.run(run_steps(context, functions, hooks or StepHooks()))
