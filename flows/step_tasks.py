"""What a skill flow does around each step (``skills.runner``'s hooks): tasks, pauses, events.

Each attempt at a step is a Prefect task named after the step, with the step's retries and
timeout; the level decides where the run pauses (``pause_flow_run`` with a typed input, raced
with a cancellation request); every step's start, end, skip and failure is reported.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
from prefect import task
from prefect.cache_policies import NONE
from prefect.context import TaskRunContext
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from flows.cancellation import RunCancellation
from flows.events import AwaitingConfirmation, StepCompleted, StepFailure, StepProgress, StepSkipped
from flows.names import step_task_qualname
from flows.reporting import ExecutionReporter
from skills.context import StepContext
from skills.definition import Level, StepSpec
from skills.diagnosis import diagnose
from skills.errors import UserMessageError
from skills.resume import record_completed_step
from skills.runner import Attempt, StepHooks, StepRun

CONFIRMATION_TIMEOUT_SECONDS = 3600
# Prefect polls a paused run every 10 s by default; 1 s lets a confirmed step start promptly.
CONFIRMATION_POLL_SECONDS = 1


class StepConfirmation(RunInput):
    """The answer to a pause: go on with the next step, or stop (and undo) the run."""

    proceed: bool = True


class StepFailed(Exception):
    """A critical step failed; the run stops here and is undone."""

    def __init__(self, step: StepSpec, error: str, suggestions: list[str], diagnosis: dict[str, Any] | None) -> None:
        super().__init__(error)
        self.step = step
        self.error = error
        self.suggestions = suggestions
        self.diagnosis = diagnosis


class ExecutionDeclined(Exception):
    """The person answering a pause chose not to proceed."""


class ExecutionCancelled(Exception):
    """The run was asked to stop (``Cancelling``) while it executes in this process."""


async def confirm(
    reporter: ExecutionReporter, cancellation: RunCancellation, key: str, event: AwaitingConfirmation
) -> None:
    """Pause the flow run until someone answers; raise if they decline or the run is cancelled."""
    reporter.report(event)
    pause = asyncio.ensure_future(pause_flow_run(
        wait_for_input=StepConfirmation,
        timeout=CONFIRMATION_TIMEOUT_SECONDS,
        poll_interval=CONFIRMATION_POLL_SECONDS,
        key=key,
    ))
    cancelled = asyncio.ensure_future(cancellation.wait())
    await asyncio.wait([pause, cancelled], return_when=asyncio.FIRST_COMPLETED)
    cancelled.cancel()
    if not pause.done():
        pause.cancel()
        raise ExecutionCancelled()
    if not pause.result().proceed:
        raise ExecutionDeclined()


class StepsAsTasks(StepHooks):
    """The hooks of a real run inside a skill's flow run."""

    def __init__(
        self,
        context: StepContext,
        reporter: ExecutionReporter,
        cancellation: RunCancellation,
        level: Level,
        warnings: list[str],
        reused: dict[str, str],
        default_retries: int,
    ) -> None:
        self.context = context
        self.reporter = reporter
        self.failed_non_critical: set[str] = set()
        self.cancellation = cancellation
        self.level = level
        self.warnings = warnings
        self.reused = reused  # step id -> why it does not run again (a retry put its work back)
        self.default_retries = default_retries
        self.asked = False

    def skip_reason(self, step: StepRun, context: StepContext) -> str | None:
        return self.reused.get(step.id) or super().skip_reason(step, context)

    async def skipped(self, step: StepRun, reason: str) -> None:
        self.reporter.report(StepSkipped(step_index=step.index, step_id=step.id, step_name=step.name, reason=reason))

    async def before(self, step: StepRun) -> None:
        self.stop_if_cancelled()
        if self.level == "beginner" or (self.level == "intermediate" and self.warnings and not self.asked):
            self.asked = True
            pause = AwaitingConfirmation(
                step_index=step.index, step_name=step.name, warnings=self.warnings,
                execution_id=str(self.reporter.flow_run_id),
            )
            await confirm(self.reporter, self.cancellation, f"before-step-{step.index}", pause)
        self.reporter.report(StepProgress(
            step_index=step.index, step_id=step.id, step_name=step.name, progress=_percent(step.index - 1, step.total),
        ))

    async def call(self, step: StepRun, attempt: Attempt) -> Any:
        """One Prefect task run per step (its attempts are the task's retries); ``None`` when a
        non-critical step failed, ``StepFailed`` when a critical one did."""
        retries = step.spec.retries or self.default_retries

        async def run_attempt() -> Any:
            # No parameters on purpose: Prefect walks a task's arguments (to find futures and
            # record inputs), and walking the whole StepContext cost more than the step itself.
            return await self._attempt(step, attempt)

        run_attempt.__name__ = step.spec.function_name
        run_attempt.__qualname__ = step_task_qualname(step.id)  # how analytics finds the step's task runs
        step_task = task(
            name=step.name, task_run_name=step.name, retries=retries,
            timeout_seconds=step.spec.timeout or self.context.default_step_timeout,
            cache_policy=NONE, persist_result=False,
        )(run_attempt)
        state = await step_task(return_state=True)
        outcome = await state.aresult(raise_on_failure=False)
        if state.is_completed():
            return outcome
        self.context.running.kill_all()  # a timed-out attempt may have left its commands running
        failure = outcome if isinstance(outcome, BaseException) else RuntimeError(state.message or state.name)
        if state.name == "TimedOut":
            # A timeout cancels the attempt from outside, so _attempt could not report it.
            failure = TimeoutError(f"timed out after {self.context.step_timeout:g} s")
            self._report_failure(step, failure, retries + 1)
        self.stop_if_cancelled()  # its commands were killed because the run is being cancelled
        if step.spec.critical:
            raise StepFailed(step.spec, str(failure), **explain(failure))
        self.failed_non_critical.add(step.id)  # reported as failed: it did not complete
        return None

    async def _attempt(self, step: StepRun, attempt: Attempt) -> Any:
        started = time.monotonic()
        try:
            # abandon_on_cancel: a step timeout must not wait for the step's thread to finish.
            output = await anyio.to_thread.run_sync(attempt, abandon_on_cancel=True)
        except Exception as exc:
            self._report_failure(step, exc, _current_attempt())
            raise
        step.duration_ms = round((time.monotonic() - started) * 1000)
        return output

    async def completed(self, step: StepRun, output: Any) -> None:
        record_completed_step(self.context.workspace.journal, step.id, output)
        if step.id in self.failed_non_critical:
            return
        self.reporter.report(StepCompleted(
            step_index=step.index, step_id=step.id, step_name=step.name, progress=_percent(step.index, step.total),
            duration_ms=step.duration_ms, files_created=step.files_created,
        ))

    def stop_if_cancelled(self) -> None:
        if self.cancellation.requested:
            raise ExecutionCancelled()

    def _report_failure(self, step: StepRun, error: BaseException, attempt: int) -> None:
        self.reporter.report(StepFailure(
            step_index=step.index, step_id=step.id, step_name=step.name, error=str(error),
            critical=step.spec.critical, attempt=attempt, **explain(error),
        ))


def explain(error: BaseException) -> dict[str, Any]:
    """``suggestions`` (the error's own, then the diagnosis') and the ``diagnosis`` of a failure."""
    own = list(error.suggestions) if isinstance(error, UserMessageError) else []
    found = diagnose(error)
    if found is None:
        return {"suggestions": own, "diagnosis": None}
    return {"suggestions": own + [s for s in found.suggestions if s not in own], "diagnosis": found.as_event()}


def _percent(done: int, total: int) -> int:
    return round(done * 100 / total) if total else 100


def _current_attempt() -> int:
    run_context = TaskRunContext.get()
    return run_context.task_run.run_count if run_context else 1
