"""Running a workflow's nodes: each as soon as what it depends on is done, as a Prefect subflow.

A node runs its skill's own flow (or a sub-workflow's) as a subflow of the workflow's run, so
it has its own flow run, journal and rollback, and the Prefect UI shows the nesting. The nodes
that are ready run side by side: their subflows are async and awaited together. Each node's
events reach the workflow's stream with its id (``flows.reporting``); a ``for_each`` node runs
once per item (``node[0]``, ``node[1]``... in events), its outputs collected into a list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import tags
from prefect.states import State

from flows.cancellation import RunCancellation, request_cancellation
from flows.events import AwaitingConfirmation, NodeCompleted, NodeFailed, NodeSkipped, NodeStarted
from flows.names import skill_tags, workflow_tags
from flows.reporting import ExecutionReporter, WorkflowNode, current_workflow_node
from flows.step_tasks import confirm
from skills.workflows.expressions import UNKNOWN, Condition, Scope, render, template_references
from skills.workflows.graph import WorkflowGraph
from skills.workflows.record import NodeRun, WorkflowRecord
from skills.workflows.spec import NodeSpec, WorkflowSpec

# (node, its parameters, a failed run to reuse) -> the subflow's final state; the workflow flow knows the flows.
SubflowCall = Callable[[NodeSpec, dict[str, Any], UUID | None], Awaitable[State[Any]]]


class NodeFailure(Exception):
    """A node failed and its ``on_failure`` is ``stop``: the workflow stops and compensates."""

    def __init__(self, node_id: str, error: str) -> None:
        super().__init__(error)
        self.node_id = node_id
        self.error = error


@dataclass
class NodeScheduler:
    spec: WorkflowSpec
    inputs: dict[str, Any]
    record: WorkflowRecord
    save_record: Callable[[], None]
    reporter: ExecutionReporter
    cancellation: RunCancellation
    call_subflow: SubflowCall
    resume: WorkflowRecord | None = None  # a failed run of this workflow whose nodes' work is reused
    running: dict[str, UUID] = field(default_factory=dict)  # event node id -> its flow run, while it runs
    stopping: bool = False  # a node failed (or the run was cancelled): no node starts, running ones stop
    _approvals: asyncio.Lock = field(default_factory=asyncio.Lock)  # one pause of the workflow at a time

    async def run(self) -> None:
        """Run every node in dependency order, ready ones side by side; raise ``NodeFailure`` on a stop."""
        graph = WorkflowGraph(self.spec).graph
        waiting = set(graph.nodes)
        active: dict[asyncio.Task[None], str] = {}
        try:
            while waiting or active:
                for node_id in sorted(waiting):
                    if self.cancellation.requested:
                        break
                    if all(self.record.nodes[dep].status not in ("pending", "running") for dep in graph.predecessors(node_id)):
                        waiting.discard(node_id)
                        active[asyncio.create_task(self._run_node(self.spec.node(node_id)))] = node_id
                if not active:
                    break
                done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    active.pop(task)
                    task.result()  # NodeFailure (stop) or cancellation ends the loop
        finally:
            await self._stop(active)

    async def _stop(self, active: dict[asyncio.Task[None], str]) -> None:
        """Nodes still running when the workflow stops are cancelled: a running subflow is asked
        to stop (it undoes itself); a node waiting for its approval stops waiting."""
        if not active:
            return
        self.stopping = True
        for flow_run_id in list(self.running.values()):
            request_cancellation(flow_run_id)
        for task, node_id in active.items():
            if not any(key == node_id or key.startswith(f"{node_id}[") for key in self.running):
                task.cancel()
        await asyncio.gather(*active, return_exceptions=True)  # their outcomes are in the record

    async def _run_node(self, node: NodeSpec) -> None:
        state = self.record.nodes[node.id]
        reason = self._skip_reason(node)
        if reason is not None:
            self._finish(node.id, "skipped", reason=reason)
            self.reporter.report(NodeSkipped(node_id=node.id, reason=reason))
            return
        if node.approval:
            await self._approve(node)
        items = self._items(node)
        state.status, state.runs = "running", [None] * len(items)
        self.save_record()
        results = await asyncio.gather(*(self._run_item(node, index, item, len(items)) for index, item in enumerate(items)))
        failures = [error for _, error in results if error is not None]
        if failures:
            halted = self.stopping or self.cancellation.requested  # it failed because it was stopped
            self._finish(node.id, "cancelled" if halted else "failed", reason=failures[0])
            if node.on_failure == "stop" and not halted:
                raise NodeFailure(node.id, failures[0])
            return
        outputs = [outputs for outputs, _ in results]
        self._finish(node.id, "completed", outputs=outputs if node.for_each is not None else outputs[0])
        self.reporter.report(NodeCompleted(node_id=node.id, outputs=state.outputs, execution_id=state.runs[0] if node.for_each is None else None))

    def _skip_reason(self, node: NodeSpec) -> str | None:
        for dependency in node.depends_on:
            if self.record.nodes[dependency].status == "failed":
                return f"{dependency} failed"
        for reference in template_references([node.parameters, node.for_each]):
            if reference.node_id and self.record.nodes[reference.node_id].status == "skipped":
                return f"it needs the outputs of {reference.node_id}, which was skipped"
        if node.when is None:
            return None
        decided = Condition.parse(node.when).evaluate(self._scope())
        if decided is UNKNOWN:
            return f"when {node.when!r} needs the outputs of a node that did not run"
        return None if decided else f"when {node.when!r} is false"

    async def _approve(self, node: NodeSpec) -> None:
        async with self._approvals:
            pause = AwaitingConfirmation(
                node_id=node.id, step_name=f"Approve {node.title()}", execution_id=str(self.reporter.flow_run_id),
            )
            await confirm(self.reporter, self.cancellation, f"approve-{node.id}", pause)

    def _items(self, node: NodeSpec) -> list[Any]:
        if node.for_each is None:
            return [UNKNOWN]
        values = render(node.for_each, self._scope())
        return values if isinstance(values, list) else []

    async def _run_item(self, node: NodeSpec, index: int, item: Any, count: int) -> tuple[Any, str | None]:
        """One run of the node: (its outputs, None) or (None, what failed); retried as the node says."""
        event_id = f"{node.id}[{index}]" if node.for_each is not None else node.id
        parameters = render(node.parameters, self._scope(item))
        unknown = sorted(name for name, value in parameters.items() if value is UNKNOWN)
        if unknown:
            error = f"parameters {', '.join(unknown)} need outputs of a node that did not run"
            self.reporter.report(NodeFailed(node_id=event_id, error=error))
            return None, error
        reuse = self._reusable_run(node.id, index)
        for attempt in range(node.retries + 1):
            state, flow_run_id = await self._attempt(node, event_id, index, parameters, reuse)
            if state.is_completed():
                result = await state.aresult()
                return (result or {}).get("outputs"), None
            error = state.message or state.name
            self.reporter.report(NodeFailed(node_id=event_id, error=error, execution_id=str(flow_run_id) if flow_run_id else None))
            if self.cancellation.requested or state.is_cancelled() or attempt == node.retries:
                return None, error
            reuse = flow_run_id  # a retry puts back what the failed attempt's completed steps made
        return None, "no attempt was made"

    async def _attempt(
        self, node: NodeSpec, event_id: str, index: int, parameters: dict[str, Any], reuse: UUID | None
    ) -> tuple[State[Any], UUID | None]:
        started: list[UUID] = []

        def on_started(flow_run_id: UUID) -> None:
            started.append(flow_run_id)
            self.running[event_id] = flow_run_id
            self.record.nodes[node.id].runs[index] = str(flow_run_id)
            self.save_record()
            self.reporter.report(NodeStarted(node_id=event_id, execution_id=str(flow_run_id), skill_id=node.skill, workflow_id=node.workflow))
            if node.timeout is not None:
                asyncio.get_running_loop().call_later(node.timeout, request_cancellation, flow_run_id)

        token = current_workflow_node.set(WorkflowNode(event_id, self.reporter, on_started))
        try:
            node_tags = skill_tags(node.skill) if node.skill else workflow_tags(node.workflow or "")
            with tags(*node_tags, f"node:{node.id}", f"workflow-run:{self.reporter.flow_run_id}"):
                state = await self.call_subflow(node, parameters, reuse)
        finally:
            current_workflow_node.reset(token)
            self.running.pop(event_id, None)
        return state, started[-1] if started else None

    def _reusable_run(self, node_id: str, index: int) -> UUID | None:
        """The run of this node (item) in the failed run being retried, whose work it puts back."""
        previous: NodeRun | None = self.resume.nodes.get(node_id) if self.resume else None
        if previous is None or index >= len(previous.runs) or previous.runs[index] is None:
            return None
        return UUID(previous.runs[index])

    def _scope(self, item: Any = UNKNOWN) -> Scope:
        outputs = {node_id: run.outputs for node_id, run in self.record.nodes.items() if run.status == "completed"}
        return Scope(self.inputs, outputs, item)

    def _finish(self, node_id: str, status: Any, outputs: Any = None, reason: str | None = None) -> None:
        run = self.record.nodes[node_id]
        run.status, run.outputs, run.reason = status, outputs, reason
        if status in ("completed", "failed"):
            self.record.completed_order.append(node_id)  # a failed node may have left work: compensate it too
        self.save_record()
