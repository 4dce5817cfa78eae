"""A skill as a Prefect flow: one async flow per skill, one task run per executed step.

The flow re-checks everything (parameters, target, environment), then walks the steps with
the one step loop (``skills.runner``) and the flow's hooks (``flows.step_tasks``): a skipped
step is reported, an active one runs as a task named after the step with that step's retries
and timeout, and levels pause through ``pause_flow_run`` with a typed input. A critical
step's failure undoes the journal (setting the work aside, so a retry with ``resume_from``
can put the completed steps back) and fails the run; a non-critical one is a warning. The
run returns its declared outputs (persisted), and reports through ``flows.reporting``.
"""

# No ``from __future__ import annotations`` here: Prefect reads the flow's parameter
# annotations at run time, and the per-skill parameter model is a local variable.
import multiprocessing
import os
import signal
import time
from contextlib import nullcontext
from typing import Any
from uuid import UUID

import anyio
from prefect import flow
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.context import FlowRunContext
from prefect.flows import Flow
from prefect.states import Cancelled as CancelledState
from prefect.states import Completed, Failed, State

from blocks.settings import Settings, load_settings
from flows.cancellation import RunCancellation
from flows.events import Cancelled, Complete, Error
from flows.reporting import ExecutionReporter, current_workflow_node
from flows.rollback import rollback_token
from flows.step_tasks import ExecutionCancelled, ExecutionDeclined, StepFailed, StepsAsTasks
from skills.catalog import step_functions
from skills.context import StepContext
from skills.definition import Level, Persona, SkillDefinition
from skills.journal import ExecutionJournal, ExecutionOwner
from skills.outputs import skill_outputs
from skills.parameters import parameter_model
from skills.planning import Preflight, preflight
from skills.process_guard import die_with_parent
from skills.resume import put_back, reusable_steps
from skills.runner import run_steps, step_skip_reason
from skills.target_lock import TargetBusyError, target_lock
from skills.workspace import Workspace


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
        allow_network: bool = False,
    ) -> State[Any]:
        supplied = parameters.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        _die_with_the_process_that_started_this_run()
        return await SkillExecution(skill, supplied, level, persona, resume_from, allow_network).run()

    run_skill.__name__ = run_skill.__qualname__ = flow_attribute_name(skill.id)
    run_skill.__module__ = module
    run_skill.__doc__ = skill.description
    # persist_result: the run's outputs stay readable (a workflow's later nodes, the history).
    return flow(name=skill.id, description=skill.description, version=skill.version, persist_result=True)(run_skill)


class SkillExecution:
    """One real run of a skill inside a Prefect flow run; ``resume_from`` names a failed run
    whose completed steps are put back and reused instead of run again."""

    def __init__(
        self, skill: SkillDefinition, parameters: dict[str, Any], level: Level, persona: Persona,
        resume_from: UUID | None = None, allow_network: bool = False,
    ) -> None:
        self.skill = skill
        self.allow_network = allow_network
        self.parameters = parameters
        self.level = level
        self.persona = persona
        self.resume_from = resume_from
        run_context = FlowRunContext.get()
        assert run_context is not None and run_context.flow_run is not None, "runs only inside a flow run"
        self.execution_id = run_context.flow_run.id
        self.reporter = ExecutionReporter(self.execution_id, skill.name)
        self.started = time.monotonic()
        node = current_workflow_node.get()
        if node is not None:
            node.on_started(self.execution_id)

    async def run(self) -> State[Any]:
        settings = await load_settings()
        # In a thread, as everything below that may block: runs share the serving process's
        # event loop (a workflow's nodes run side by side in it).
        checked = await anyio.to_thread.run_sync(
            lambda: preflight(self.skill, self.parameters, self.level, self.persona, settings.workspace_root)
        )
        if not checked.ok:
            problems = "; ".join(str(issue) for issue in checked.errors)
            self._report_error(f"Pre-flight checks failed: {problems}", [i.hint for i in checked.errors if i.hint], False)
            return Failed(message=problems)
        missing = _unimplemented_steps(self.skill, checked.values)
        if missing:
            error = f"{self.skill.name} is not implemented yet: no code for {', '.join(missing)}"
            self._report_error(error, ["Dry-run it to see its plan; execute it once its steps are implemented."], False)
            return Failed(message=error)
        # A skill with no target folder (security-audit: it may read a project outside the
        # workspace) claims none: two audits of two projects run side by side.
        lock = target_lock(settings.workspace_root, checked.target, str(self.execution_id)) if checked.target else nullcontext()
        try:
            with lock:
                return await self._execute(checked, settings)
        except TargetBusyError as busy:
            self._report_error(busy.message, busy.suggestions, False)
            return Failed(message=busy.message)

    async def _execute(self, checked: Preflight, settings: Settings) -> State[Any]:
        journal = ExecutionJournal(settings.workspace_root, str(self.execution_id))
        journal.claim(ExecutionOwner.this_process())
        context = StepContext(
            skill=self.skill,
            params=checked.values,
            level=self.level,
            persona=self.persona,
            workspace=Workspace(settings.workspace_root, journal),
            environment=checked.environment,
            on_log=self.reporter.log,
            settings={
                "advisory_db": settings.advisory_db, "sandbox_memory_mb": settings.sandbox_memory_mb,
                "sandbox_processes": settings.sandbox_processes,
            },
            default_step_timeout=settings.step_timeout_seconds,
            network_allowed=self.allow_network,
        )
        reused = await anyio.to_thread.run_sync(lambda: self._put_back_reused_steps(context, settings))
        try:
            with RunCancellation(self.execution_id, on_request=context.running.stop) as cancellation:
                hooks = StepsAsTasks(
                    context, self.reporter, cancellation, self.level, checked.warnings, reused, settings.step_retries
                )
                await run_steps(context, step_functions(self.skill), hooks)
        except ExecutionCancelled:
            undone = await anyio.to_thread.run_sync(journal.undo)  # a rollback's rules: edits since are kept
            self.reporter.report(Cancelled(
                execution_id=str(self.execution_id), rolled_back=undone.complete,
                undone=undone.deleted + undone.restored, conflicts=undone.conflicts,
            ))
            return CancelledState(message="Cancelled; what the run changed was undone.")
        except StepFailed as failure:
            undone = await anyio.to_thread.run_sync(lambda: journal.undo(force=True, keep_for_resume=True))
            error = f"{failure.step.title(context.params)} failed: {failure.error}"
            self._report_error(error, failure.suggestions, True, undone.deleted + undone.restored, failure.diagnosis)
            return Failed(message=failure.error)
        except ExecutionDeclined:
            undone = await anyio.to_thread.run_sync(lambda: journal.undo(force=True))
            self.reporter.report(Cancelled(
                execution_id=str(self.execution_id), rolled_back=True, undone=undone.deleted + undone.restored,
            ))
            return CancelledState(message="Declined at a confirmation; everything the run changed was undone.")
        except Exception as unexpected:  # a defect, not a step's failure: still leave nothing half-done
            undone = journal.undo(force=True, keep_for_resume=True)
            self._report_error(f"The run stopped unexpectedly: {unexpected!r}", [], True, undone.deleted + undone.restored)
            raise
        return await self._complete(context, checked)

    def _put_back_reused_steps(self, context: StepContext, settings: Settings) -> dict[str, str]:
        """Put back what the failed run ``resume_from`` completed; step id -> why it is not run again."""
        if self.resume_from is None:
            return {}
        failed_run = ExecutionJournal(settings.workspace_root, str(self.resume_from))
        order = [step.id for step in self.skill.steps if step_skip_reason(step, context.params) is None]
        reusable = reusable_steps(failed_run, order)
        put_back(failed_run, {step.step_id for step in reusable}, context.workspace)
        context.outputs.update({step.step_id: step.output for step in reusable})
        reason = f"done by execution {self.resume_from}; its work was put back"
        return {step.step_id: reason for step in reusable}

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
        complete = Complete(
            execution_id=str(self.execution_id),
            duration=f"{time.monotonic() - self.started:.1f}s",
            files_created=len(created),
            output_path=str(context.workspace.root / checked.target) if checked.target else str(context.workspace.root),
            rollback_token=rollback_token(self.execution_id),
            outputs=skill_outputs(context),
        )
        self.reporter.report(complete)
        # The run's result (persisted): what a workflow's later nodes and any later reader get.
        return Completed(message=f"{len(created)} files created", data=complete.wire())

    def _report_error(
        self, error: str, suggestions: list[str], rolled_back: bool,
        undone: list[str] | None = None, diagnosis: dict[str, Any] | None = None,
    ) -> None:
        self.reporter.report(Error(
            execution_id=str(self.execution_id), error=error, suggestions=suggestions,
            rolled_back=rolled_back, undone=undone or [], diagnosis=diagnosis,
        ))


def _die_with_the_process_that_started_this_run() -> None:
    """Bind this flow-run process to the runner or worker that started it: if that process
    dies, even by SIGKILL, the kernel kills this one too (and the process guard then ends the
    step's commands), so no run keeps working unsupervised; recovery then finds it crashed.
    """
    parent = multiprocessing.parent_process()  # the runner, for a served flow's spawned process
    expected_parent = parent.pid if parent is not None else os.getppid()
    die_with_parent(signal.SIGKILL)
    if os.getppid() != expected_parent:  # it died before the binding took effect
        os.kill(os.getpid(), signal.SIGKILL)


def _unimplemented_steps(skill: SkillDefinition, values: dict[str, Any]) -> list[str]:
    functions = step_functions(skill)
    active = [step for step in skill.steps if step_skip_reason(step, values) is None]
    return [step.title(values) for step in active if step.id not in functions]
