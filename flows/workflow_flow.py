"""A workflow as a Prefect flow: checked as the API checks it, its nodes run as subflows, and
on failure undone as a saga.

The run first validates the workflow with its inputs (``skills.workflows.validation``, the
same verdict ``POST /api/workflows/validate`` gives), then runs the nodes
(``flows.workflow_nodes``). When a node fails and its ``on_failure`` is ``stop`` (the default),
the nodes not started never start, running ones are cancelled, and the completed ones are
compensated in reverse order with their own rollback, setting their work aside so a retry
(``resume_from``) reuses it: the completed nodes then put their work back instead of running
again, and the failed one starts over from its failed step. Cancelling the run or declining
an approval compensates the same way, with a rollback's rules (a file edited since is kept).
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import anyio
from prefect import flow
from prefect.context import FlowRunContext
from prefect.states import Cancelled as CancelledState
from prefect.states import Completed, Failed, State

from blocks.settings import Settings, catalog_sources, load_settings
from flows.cancellation import RunCancellation, request_cancellation
from flows.events import Cancelled, Compensated, Compensating, Complete, Error
from flows.names import WORKFLOW_FLOW_NAME
from flows.reporting import ExecutionReporter, current_workflow_node
from flows.rollback import rollback_token
from flows.skill_flows import SKILL_FLOWS
from flows.step_tasks import ExecutionCancelled, ExecutionDeclined
from flows.workflow_nodes import NodeFailure, NodeScheduler
from skills.catalog import load_catalog
from skills.definition import Level, Persona
from skills.journal import ExecutionJournal, ExecutionOwner
from skills.workflows.library import WorkflowLibrary
from skills.workflows.record import NodeRun, WorkflowRecord
from skills.workflows.spec import NodeSpec, WorkflowSpec
from skills.workflows.undo import undo_execution
from skills.workflows.validation import ValidationContext, WorkflowValidation, validate_workflow


@flow(name=WORKFLOW_FLOW_NAME, description="Run a skillworks workflow: skills as subflows, in dependency order.", persist_result=True)
async def run_workflow(
    workflow_id: str | None = None,
    spec: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    level: Level = "intermediate",
    persona: Persona = "full-stack",
    resume_from: UUID | None = None,
) -> State[Any]:
    """Run the saved or built-in workflow ``workflow_id``, or the ``spec`` given inline."""
    run_context = FlowRunContext.get()
    assert run_context is not None and run_context.flow_run is not None, "runs only inside a flow run"
    execution = WorkflowExecution(run_context.flow_run.id, await load_settings(), level, persona)
    return await execution.run(spec if spec is not None else workflow_id, inputs or {}, resume_from)


class WorkflowExecution:
    def __init__(self, execution_id: UUID, settings: Settings, level: Level, persona: Persona) -> None:
        self.execution_id = execution_id
        self.settings = settings
        self.level = level
        self.persona = persona
        self.started = time.monotonic()
        self.reporter = ExecutionReporter(execution_id, "workflow")
        node = current_workflow_node.get()  # a sub-workflow is a node of its parent
        if node is not None:
            node.on_started(execution_id)

    async def run(self, source: str | dict[str, Any] | None, inputs: dict[str, Any], resume_from: UUID | None) -> State[Any]:
        validation = await anyio.to_thread.run_sync(lambda: self._validate(source, inputs))
        if not validation.valid or validation.spec is None:
            problems = "; ".join(f"{p.node_id or p.field or 'workflow'}: {p.message}" for p in validation.problems)
            self.reporter.report(Error(
                execution_id=str(self.execution_id), error=f"The workflow is not valid: {problems}",
                suggestions=["Check it with POST /api/workflows/validate (or `skillworks workflow validate`)."],
            ))
            return Failed(message=problems)
        spec = validation.spec
        self.reporter.run_name = spec.name
        # Who runs it: if this process dies, recovery marks the run Crashed and undoes its nodes.
        ExecutionJournal(self.settings.workspace_root, str(self.execution_id)).claim(ExecutionOwner.this_process())
        record = WorkflowRecord(
            workflow_id=spec.id, workflow_name=spec.name, spec=spec.model_dump(mode="json"),
            inputs=validation.inputs, nodes={node.id: NodeRun(kind="skill" if node.skill else "workflow") for node in spec.nodes},
        )
        record.save(self.settings.workspace_root, str(self.execution_id))
        resumed = WorkflowRecord.load(self.settings.workspace_root, str(resume_from)) if resume_from else None
        return await self._execute(spec, validation.inputs, record, resumed)

    def _validate(self, source: str | dict[str, Any] | None, inputs: dict[str, Any]) -> WorkflowValidation:
        library = WorkflowLibrary(self.settings.workspace_root)
        if isinstance(source, str):
            source = library.get(source)[0]
        if source is None:
            source = {}
        context = ValidationContext(
            load_catalog(catalog_sources()), library, self.settings.workspace_root, self.level, self.persona,
        )
        return validate_workflow(source, inputs, context)

    async def _execute(
        self, spec: WorkflowSpec, inputs: dict[str, Any], record: WorkflowRecord, resumed: WorkflowRecord | None
    ) -> State[Any]:
        def save() -> None:
            record.save(self.settings.workspace_root, str(self.execution_id))

        scheduler: NodeScheduler | None = None

        def cancel_nodes() -> None:
            for flow_run_id in list(scheduler.running.values() if scheduler else []):
                request_cancellation(flow_run_id)

        try:
            with RunCancellation(self.execution_id, on_request=cancel_nodes) as cancellation:
                scheduler = NodeScheduler(spec, inputs, record, save, self.reporter, cancellation, self._call_subflow, resumed)
                await scheduler.run()
                if cancellation.requested:
                    raise ExecutionCancelled()
        except NodeFailure as failure:
            undone, conflicts = await self._compensate(record, keep_for_resume=True)
            self.reporter.report(Error(
                execution_id=str(self.execution_id), error=f"Node {failure.node_id} failed: {failure.error}",
                suggestions=[f"Retry the workflow: the completed nodes are reused ({rollback_token(self.execution_id)} undoes it all)."],
                rolled_back=not conflicts, undone=undone, conflicts=conflicts, failed_node=failure.node_id,
            ))
            return Failed(message=f"Node {failure.node_id} failed: {failure.error}")
        except (ExecutionCancelled, ExecutionDeclined) as stopped:
            undone, conflicts = await self._compensate(record, keep_for_resume=False)
            self.reporter.report(Cancelled(
                execution_id=str(self.execution_id), rolled_back=not conflicts, undone=undone, conflicts=conflicts,
            ))
            why = "Declined at an approval" if isinstance(stopped, ExecutionDeclined) else "Cancelled"
            return CancelledState(message=f"{why}; every node that ran was undone.")
        outputs = {node_id: run.outputs for node_id, run in record.nodes.items()}
        complete = Complete(
            execution_id=str(self.execution_id), duration=f"{time.monotonic() - self.started:.1f}s",
            rollback_token=rollback_token(self.execution_id), outputs=outputs,
        )
        self.reporter.report(complete)
        return Completed(message=f"{len(record.completed_order)} nodes completed", data=complete.wire())

    async def _call_subflow(self, node: NodeSpec, parameters: dict[str, Any], reuse: UUID | None) -> State[Any]:
        if node.skill is not None:
            return await SKILL_FLOWS[node.skill](
                parameters=parameters, level=self.level, persona=self.persona, resume_from=reuse, return_state=True,
            )
        return await run_workflow(
            workflow_id=node.workflow, inputs=parameters, level=self.level, persona=self.persona, resume_from=reuse,
            return_state=True,
        )

    async def _compensate(self, record: WorkflowRecord, keep_for_resume: bool) -> tuple[list[str], list[str]]:
        """Undo every node that ran, latest first, each with its own rollback; report each one."""
        undone: list[str] = []
        conflicts: list[str] = []
        for node_id in reversed(record.completed_order):
            self.reporter.report(Compensating(node_id=node_id))
            report_undone: list[str] = []
            report_conflicts: list[str] = []
            for run in reversed(record.nodes[node_id].runs):
                if run is None:
                    continue
                report = await anyio.to_thread.run_sync(
                    lambda run=run: undo_execution(self.settings.workspace_root, run, keep_for_resume=keep_for_resume)
                )
                report_undone += report.deleted + report.restored
                report_conflicts += report.conflicts
            if record.nodes[node_id].status == "completed":
                record.nodes[node_id].status = "compensated"
            self.reporter.report(Compensated(node_id=node_id, undone=report_undone, conflicts=report_conflicts))
            undone += report_undone
            conflicts += report_conflicts
        record.save(self.settings.workspace_root, str(self.execution_id))
        return undone, conflicts
