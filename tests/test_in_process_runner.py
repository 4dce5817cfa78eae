"""The in-process runner of the serving process (``flows.in_process_runner``): when runs start.

A run is taken as soon as it is scheduled (Prefect's event) or, when every slot is busy, as
soon as a slot frees: runs left waiting must not sit out the next poll of scheduled runs.
These tests make the poll far too slow to matter, so only those two paths can start a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path
from uuid import UUID

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments.runner import EntrypointType

from flows import in_process_runner
from flows.in_process_runner import InProcessRunner
from flows.warm_execution import WarmExecutions

RUNS = 3
NEVER_SECONDS = 3600.0  # the poll's period in these tests


@flow
async def short_run() -> str:
    await asyncio.sleep(0.2)
    return "done"


@pytest.fixture
def poll_never(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(in_process_runner, "POLL_SECONDS", NEVER_SECONDS)


async def final_runs(ids: list[UUID], seconds: float) -> list[FlowRun]:
    """The runs once all are final, or as they are when ``seconds`` run out."""
    async with get_client() as client:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
            if all(run.state and run.state.is_final() for run in runs) or asyncio.get_running_loop().time() > deadline:
                return runs
            await asyncio.sleep(0.2)


async def test_runs_waiting_for_a_slot_start_as_soon_as_one_frees(
    prefect_server: str, poll_never: None, tmp_path: Path
) -> None:
    deployment = await short_run.ato_deployment(
        name=f"one-slot-{uuid.uuid4().hex[:8]}", entrypoint_type=EntrypointType.MODULE_PATH
    )
    deployment_id = await deployment.aapply()
    runner = InProcessRunner({deployment_id: short_run}, limit=1, executions=WarmExecutions(tmp_path))
    serving = asyncio.create_task(runner.run_forever())
    try:
        await asyncio.sleep(1)  # subscribed, and its first poll (which finds nothing) is over
        async with get_client() as client:
            ids = [(await client.create_flow_run_from_deployment(deployment_id)).id for _ in range(RUNS)]
        runs = await final_runs(ids, seconds=60)
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        async with get_client() as client:
            await client.delete_deployment(deployment_id)

    # One slot: the first run starts on its event, the others each when the one before ends.
    assert [run.state.name if run.state else None for run in runs] == ["Completed"] * RUNS
    starts = sorted(run.start_time for run in runs if run.start_time)
    ends = sorted(run.end_time for run in runs if run.end_time)
    assert all(later_start >= earlier_end for later_start, earlier_end in zip(starts[1:], ends))
