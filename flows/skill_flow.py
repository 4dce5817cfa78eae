"""A skill as a Prefect flow: one async flow per skill, one task run per executed step.

The flow re-checks everything (parameters, target, environment), then walks the steps in
order: a skipped step is reported, an active one runs as a task named after the step with
that step's retries and timeout. Levels pause through ``pause_flow_run`` with a typed
input; a critical step's failure undoes the journal (setting the work aside, so a retry
with ``resume_from`` can put the completed steps back) and fails the run; a non-critical
one is a warning. Progress is reported through ``flows.events``.
"""

# No ``from __future__ import annotations`` here: Prefect reads the flow's parameter
# annotations at run time, and the per-skill parameter model is a local variable.
import os
import socket
import time
from typing import Any
from uuid import UUID

import anyio
from prefect import flow, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.flow_runs import pause_flow_run
from prefect.flows import Flow
from prefect.input import RunInput
from prefect.states import Cancelled, Completed, Failed, State

from blocks.settings import Settings, load_settings
from flows.events import ExecutionReporter
from flows.rollback import rollback_token
from skills.catalog import StepFunction, step_functions
from skills.context import StepContext
from skills.definition import Level, Persona, SkillDefinition, StepSpec
from skills.diagnosis import diagnose
from skills.errors import UserMessageError
from skills.journal import ExecutionJournal, ExecutionOwner
from skills.parameters import parameter_model
from skills.planning import Preflight, preflight, step_skip_reason
from skills.resume import put_back, record_completed_step, reusable_steps
from skills.target_lock import TargetBusyError, target_lock
from skills.workspace import Workspace

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


def flow_attribute_name(skill_id: str) -> str:
    return skill_id.replace("-", "_")


def build_skill_flow(skill: SkillDefinition, module: str) -> Flow[..., Any]:
    """The Prefect flow for ``skill``, with a typed signature so the Prefect UI shows its form.

    ``module`` must hold the flow as ``flow_attribute_name(skill.id)``: deployments use that
    import path as their entrypoint, which works from a checkout and from an installed package.
    """
    parameters_model = parameter_model(skill)

    async def run_skill(
        parameters: parameters_model,  # type: ignore[valid-type]
        level: Level = "intermediate",
        persona: Persona = "full-stack",
        resume_from: UUID | None = None,
    ) -> State[Any]:
        supplied = parameters.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        return await SkillExecution(skill, supplied, level, persona, resume_from).run()

    run_skill.__name__ = run_skill.__qualname__ = flow_attribute_name(skill.id)
    run_skill.__module__ = module
    run_skill.__doc__ = skill.description
    return flow(name=skill.id, description=skill.description, version=skill.version)(run_skill)


class SkillExecution:
    """One real run of a skill inside a Prefect flow run; ``resume_from`` names a failed run
    whose completed steps are put back and reused instead of run again."""

    def __init__(
        self, skill: SkillDefinition, parameters: dict[str, Any], level: Level, persona: Persona,
        resume_from: UUID | None = None,
    ) -> None:
        self.skill = skill
        self.parameters = parameters
        self.level = level
        self.persona = persona
        self.resume_from = resume_from
        run_context = FlowRunContext.get()
        assert run_context is not None and run_context.flow_run is not None, "runs only inside a flow run"
        self.execution_id = run_context.flow_run.id
        self.reporter = ExecutionReporter(self.execution_id, skill.name)
        self.started = time.monotonic()

    async def run(self) -> State[Any]:
        settings = await load_settings()
        checked = preflight(self.skill, self.parameters, self.level, self.persona, settings.workspace_root)
        if not checked.ok:
            problems = "; ".join(str(issue) for issue in checked.errors)
            self._report_error(f"Pre-flight checks failed: {problems}", [i.hint for i in checked.errors if i.hint], False)
            return Failed(message=problems)
        missing = _unimplemented_steps(self.skill, checked.values)
        if missing:
            error = f"{self.skill.name} is not implemented yet: no code for {', '.join(missing)}"
            self._report_error(error, ["Dry-run it to see its plan; execute it once its steps are implemented."], False)
            return Failed(message=error)
        try:
            with target_lock(settings.workspace_root, checked.target or ".", str(self.execution_id)):
                return await self._execute(checked, settings)
        except TargetBusyError as busy:
            self._report_error(busy.message, busy.suggestions, False)
            return Failed(message=busy.message)

    async def _execute(self, checked: Preflight, settings: Settings) -> State[Any]:
        journal = ExecutionJournal(settings.workspace_root, str(self.execution_id))
        journal.claim(ExecutionOwner(hostname=socket.gethostname(), pid=os.getpid()))
        context = StepContext(
            skill=self.skill,
            params=checked.values,
            level=self.level,
            persona=self.persona,
            workspace=Workspace(settings.workspace_root, journal),
            environment=checked.environment,
            on_log=self.reporter.log,
            settings={"advisory_db": settings.advisory_db},
        )
        reused = self._put_back_reused_steps(context, settings)
        try:
            await self._run_steps(context, checked, settings, reused)
        except StepFailed as failure:
            undone = journal.undo(force=True, keep_for_resume=True)
            error = f"{failure.step.title(context.params)} failed: {failure.error}"
            self._report_error(error, failure.suggestions, True, undone.deleted + undone.restored, failure.diagnosis)
            return Failed(message=failure.error)
        except ExecutionDeclined:
            undone = journal.undo(force=True)
            self.reporter.report(
                "cancelled", executionId=str(self.execution_id), rolledBack=True, undone=undone.deleted + undone.restored
            )
            return Cancelled(message="Declined at a confirmation; everything the run changed was undone.")
        return await self._complete(context, checked)

    def _put_back_reused_steps(self, context: StepContext, settings: Settings) -> set[str]:
        if self.resume_from is None:
            return set()
        failed_run = ExecutionJournal(settings.workspace_root, str(self.resume_from))
        order = [step.id for step in self.skill.steps if step_skip_reason(step, context.params) is None]
        reusable = reusable_steps(failed_run, order)
        put_back(failed_run, {step.step_id for step in reusable}, context.workspace)
        context.outputs.update({step.step_id: step.output for step in reusable})
        return {step.step_id for step in reusable}

    async def _run_steps(self, context: StepContext, checked: Preflight, settings: Settings, reused: set[str]) -> None:
        functions = step_functions(self.skill)
        total = len(self.skill.steps)
        asked_once = False
        for index, step in enumerate(self.skill.steps, start=1):
            base = {"stepIndex": index, "stepId": step.id, "stepName": step.title(context.params)}
            reason = step_skip_reason(step, context.params)
            if step.id in reused:
                reason = f"done by execution {self.resume_from}; its work was put back"
            if reason:
                self.reporter.report("step_skipped", **base, reason=reason)
                continue
            if self.level == "beginner" or (self.level == "intermediate" and checked.warnings and not asked_once):
                asked_once = True
                await self._confirm(index, base["stepName"], checked.warnings)
            self.reporter.report("step_progress", **base, progress=_percent(index - 1, total), status="running")
            await self._run_step(step, functions[step.id], context, index, total, settings)

    async def _run_step(
        self, step: StepSpec, function: StepFunction, context: StepContext, index: int, total: int, settings: Settings
    ) -> None:
        timeout = step.timeout or settings.step_timeout_seconds
        retries = step.retries or settings.step_retries
        context.step_timeout = timeout
        step_task = task(
            name=step.title(context.params),
            task_run_name=step.title(context.params),
            retries=retries,
            timeout_seconds=timeout,
            cache_policy=NONE,
            persist_result=False,
        )(self._attempt)
        state = await step_task(step, function, context, index, return_state=True)
        outcome = await state.aresult(raise_on_failure=False)
        base = {"stepIndex": index, "stepId": step.id, "stepName": step.title(context.params)}
        if state.is_completed():
            record_completed_step(context.workspace.journal, step.id, context.outputs.get(step.id))
            self.reporter.report("step_completed", **base, progress=_percent(index, total), **outcome)
            return
        context.running.kill_all()  # a timed-out attempt may have left its commands running
        failure = outcome if isinstance(outcome, BaseException) else RuntimeError(state.message or state.name)
        if state.name == "TimedOut":
            # A timeout cancels the attempt from outside, so _attempt could not report it.
            failure = TimeoutError(f"timed out after {timeout:g} s")
            self.reporter.report(
                "step_failed", **base, error=str(failure), critical=step.critical, attempt=retries + 1,
                **_explain(failure),
            )
        if step.critical:
            raise StepFailed(step, str(failure), **_explain(failure))

    async def _attempt(self, step: StepSpec, function: StepFunction, context: StepContext, index: int) -> dict[str, int]:
        """One attempt at a step (Prefect's retries call it again): its duration and files created."""
        changes_before = len(context.workspace.changes)
        context.begin_step(step.id)
        started = time.monotonic()
        try:
            # abandon_on_cancel: a step timeout must not wait for the step's thread to finish.
            context.outputs[step.id] = await anyio.to_thread.run_sync(function, context, abandon_on_cancel=True)
        except Exception as exc:
            self.reporter.report(
                "step_failed", stepIndex=index, stepId=step.id, stepName=step.title(context.params),
                error=str(exc), critical=step.critical, attempt=_current_attempt(), **_explain(exc),
            )
            raise
        created = context.workspace.changes[changes_before:]
        return {
            "durationMs": round((time.monotonic() - started) * 1000),
            "filesCreated": sum(1 for c in created if c.kind == "create" and not c.is_dir),
        }

    async def _confirm(self, index: int, step_name: str, warnings: list[str]) -> None:
        self.reporter.report("awaiting_confirmation", stepIndex=index, stepName=step_name, warnings=warnings)
        answer = await pause_flow_run(
            wait_for_input=StepConfirmation,
            timeout=CONFIRMATION_TIMEOUT_SECONDS,
            poll_interval=CONFIRMATION_POLL_SECONDS,
            key=f"before-step-{index}",
        )
        if not answer.proceed:
            raise ExecutionDeclined()

    async def _complete(self, context: StepContext, checked: Preflight) -> State[Any]:
        created = [c for c in context.workspace.changes if c.kind == "create" and not c.is_dir]
        for step_id, output in context.outputs.items():
            if isinstance(output, dict) and isinstance(output.get("markdown"), str):
                # A step's report (the security audit's, say) shows in the Prefect UI too.
                await acreate_markdown_artifact(key=f"{self.skill.id}-{step_id}", markdown=output["markdown"])
        await acreate_table_artifact(
            key=f"{self.skill.id}-files",
            table=[{"path": c.path, "change": c.kind, "step": c.step_id} for c in context.workspace.changes],
            description=f"Files created or changed by {self.skill.name} ({rollback_token(self.execution_id)})",
        )
        summary = {
            "executionId": str(self.execution_id),
            "duration": f"{time.monotonic() - self.started:.1f}s",
            "filesCreated": len(created),
            "outputPath": str(context.workspace.root / checked.target) if checked.target else str(context.workspace.root),
            "rollbackToken": rollback_token(self.execution_id),
        }
        self.reporter.report("complete", **summary)
        return Completed(message=f"{len(created)} files created", data=summary)

    def _report_error(
        self, error: str, suggestions: list[str], rolled_back: bool,
        undone: list[str] | None = None, diagnosis: dict[str, Any] | None = None,
    ) -> None:
        self.reporter.report(
            "error", executionId=str(self.execution_id), error=error, suggestions=suggestions,
            rolledBack=rolled_back, undone=undone or [], diagnosis=diagnosis,
        )


def _unimplemented_steps(skill: SkillDefinition, values: dict[str, Any]) -> list[str]:
    functions = step_functions(skill)
    active = [step for step in skill.steps if step_skip_reason(step, values) is None]
    return [step.title(values) for step in active if step.id not in functions]


def _percent(done: int, total: int) -> int:
    return round(done * 100 / total) if total else 100


def _current_attempt() -> int:
    run_context = TaskRunContext.get()
    return run_context.task_run.run_count if run_context else 1


def _explain(error: BaseException) -> dict[str, Any]:
    """``suggestions`` (the error's own, then the diagnosis') and the ``diagnosis`` of a failure."""
    own = list(error.suggestions) if isinstance(error, UserMessageError) else []
    found = diagnose(error)
    if found is None:
        return {"suggestions": own, "diagnosis": None}
    return {"suggestions": own + [s for s in found.suggestions if s not in own], "diagnosis": found.as_event()}
