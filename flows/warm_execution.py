"""Executing claimed flow runs inside this warm process, with Prefect's flow engine.

Shared by the two things that take skillworks runs: the serving process of ``skillworks up``
(``flows.in_process_runner``) and the ``skillworks`` worker type (``flows.worker``). Both
claim a run by proposing ``Pending``; from there ``WarmExecutions``:

- holds the run's lease in the workspace (``skills.execution_lease``) until Prefect has
  recorded its end, so recovery on any machine sharing the workspace can tell that the
  process executing it died (``flows.recovery``);
- executes it with ``prefect.flow_engine.run_flow`` in this process: no process start, no
  imports, Prefect still the record (flow run, task runs, states, logs, artifacts);
- hears of any of its runs being suspended from outside through one observer for the
  process, not one per run (``flows.suspensions``);
- asks a run set ``Cancelling`` to stop (its commands die, it undoes its work and ends
  ``Cancelled``, see ``flows.cancellation``), and cancels outright one that does not stop
  within a grace period (recovery then undoes it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterState, FlowRunFilterStateName
from prefect.client.schemas.objects import FlowRun
from prefect.flow_engine import run_flow
from prefect.flows import Flow
from prefect.states import Cancelled, State

from flows.cancellation import forget, request_cancellation
from flows.suspensions import ProcessSuspensions
from skills.execution_lease import execution_lease

# How long a run asked to cancel may take to stop on its own before it is cancelled outright.
CANCEL_GRACE_SECONDS = 10.0

logger = logging.getLogger("skillworks.runner")


class WarmExecutions:
    """The flow runs executing in this process, by id."""

    def __init__(self, workspace_root: Path) -> None:
        self.workspace_root = workspace_root
        self._running: dict[UUID, asyncio.Task[State[Any] | None]] = {}
        self._cancelling: set[UUID] = set()
        self._suspensions = ProcessSuspensions()

    def __contains__(self, flow_run_id: UUID) -> bool:
        return flow_run_id in self._running

    def __len__(self) -> int:
        return len(self._running)

    def watching_suspensions(self) -> ProcessSuspensions:
        """Enter it around executing runs: then one observer hears of any of them being suspended."""
        return self._suspensions

    def start(self, flow: Flow[..., Any], flow_run: FlowRun) -> asyncio.Task[State[Any] | None]:
        """Execute the claimed ``flow_run`` in a task of this event loop; the task yields its final state."""
        task = asyncio.create_task(self._execute(flow, flow_run), name=f"flow-run-{flow_run.id}")
        self._running[flow_run.id] = task
        return task

    async def _execute(self, flow: Flow[..., Any], flow_run: FlowRun) -> State[Any] | None:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        with execution_lease(self.workspace_root, str(flow_run.id), holder):
            final: State[Any] | None = None
            try:
                async with self._suspensions.watching(flow_run.id):
                    final = await run_flow(flow, flow_run=flow_run, return_type="state")  # type: ignore[misc]
                return final
            except BaseException:  # the engine has recorded the state; this process goes on
                logger.exception("Flow run %s ended with an exception", flow_run.id)
                return None
            finally:
                if final is None or not final.is_final():
                    await _finish_cancellation(flow_run.id)
                self._running.pop(flow_run.id, None)
                forget(flow_run.id)

    def cancel(self, flow_run_id: UUID) -> None:
        """Ask the run to stop, if it executes here; cancel it outright after the grace period."""
        task = self._running.get(flow_run_id)
        if task is None or flow_run_id in self._cancelling:
            return
        self._cancelling.add(flow_run_id)
        task.add_done_callback(lambda _: self._cancelling.discard(flow_run_id))
        request_cancellation(flow_run_id)
        asyncio.get_running_loop().call_later(CANCEL_GRACE_SECONDS, _cancel_if_still_running, task)

    async def cancel_requested(self, client: PrefectClient) -> None:
        """Catch up on cancellations whose event was missed: runs of ours that are ``Cancelling``."""
        if not self._running:
            return
        cancelling = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
            id=FlowRunFilterId(any_=list(self._running)),
            state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Cancelling"])),
        ))
        for flow_run in cancelling:
            self.cancel(flow_run.id)


async def _finish_cancellation(flow_run_id: UUID) -> None:
    """A run cancelled after it was claimed but before it started is left ``Cancelling`` by the
    engine (which refuses to start it): this process owns it, so it marks it ``Cancelled``."""
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.name == "Cancelling":
            await client.set_flow_run_state(flow_run_id, Cancelled(message=flow_run.state.message), force=True)


def _cancel_if_still_running(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()
