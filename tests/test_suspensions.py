"""A run suspended from outside while it executes in a warm process (``flows.suspensions``).

Prefect's engine stops a deployment run that was suspended (an automation's "suspend flow
run", ``suspend_flow_run(flow_run_id=...)``) at its next task. In a warm process one observer
watches every run for that; the engine must start no observer of its own, and must still stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, get_client, task
from prefect._flow_run_suspension import _active_flow_run_suspension_requests
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.deployments.runner import EntrypointType
from prefect.states import Suspended

from flows import suspensions
from flows.in_process_runner import InProcessRunner
from flows.warm_execution import WarmExecutions


@task
async def wait_for_gate(gate: str) -> None:
    while not Path(gate).exists():
        await asyncio.sleep(0.05)


@task
async def leave_mark(mark: str) -> None:
    Path(mark).write_text("the step after the suspension ran")


@flow
async def gated_then_marked(gate: str, mark: str) -> None:
    await wait_for_gate(gate)
    await leave_mark(mark)


@pytest.fixture
def engine_observers(monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The runs for which Prefect's engine started an observer of its own."""
    started: list[UUID] = []

    @contextlib.contextmanager
    def record(flow_run_id: UUID, *args: Any, **kwargs: Any) -> Any:
        started.append(flow_run_id)
        yield

    monkeypatch.setattr(suspensions, "_observe_alone", record)
    return started


@contextlib.asynccontextmanager
async def warm_runner(deployment_id: UUID, workspace: Path) -> AsyncIterator[WarmExecutions]:
    executions = WarmExecutions(workspace)
    serving = asyncio.create_task(InProcessRunner({deployment_id: gated_then_marked}, 1, executions).run_forever())
    try:
        yield executions
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


async def eventually(condition: Any, seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"after {seconds} s: {what}"
        await asyncio.sleep(0.05)


async def test_a_run_suspended_from_outside_stops_before_its_next_step(
    prefect_server: str, tmp_path: Path, engine_observers: list[UUID]
) -> None:
    gate, mark = tmp_path / "gate", tmp_path / "mark"
    deployment = await gated_then_marked.ato_deployment(
        name=f"suspended-{uuid.uuid4().hex[:8]}", entrypoint_type=EntrypointType.MODULE_PATH
    )
    deployment_id = await deployment.aapply()
    try:
        async with warm_runner(deployment_id, tmp_path / "workspace") as executions, get_client() as client:
            flow_run = await client.create_flow_run_from_deployment(
                deployment_id, parameters={"gate": str(gate), "mark": str(mark)}
            )

            async def waiting_at_the_gate() -> bool:
                started = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])))
                return bool(started) and flow_run.id in executions

            await eventually(waiting_at_the_gate, 30, "the run never reached its first step")
            # Through the API, as the Prefect UI or an automation would: nothing in this process
            # is told directly, so only the process's observer can hand the request to the engine.
            await client.set_flow_run_state(flow_run.id, Suspended(timeout_seconds=300, pause_key="outside"))

            async def engine_told() -> bool:
                request = _active_flow_run_suspension_requests.get(flow_run.id)
                return request is not None and request.is_requested()

            await eventually(engine_told, 15, "the suspension never reached the run's engine")
            gate.touch()

            async def stopped() -> bool:
                return flow_run.id not in executions

            await eventually(stopped, 30, "the run went on after its suspension")
            suspended = await client.read_flow_run(flow_run.id)
    finally:
        async with get_client() as client:
            await client.delete_deployment(deployment_id)

    assert not mark.exists()
    assert suspended.state is not None and suspended.state.name == "Suspended"
    assert engine_observers == []
