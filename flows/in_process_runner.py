"""Running the served deployments' flow runs inside the serving process, with Prefect's engine.

Prefect's own runner starts a fresh Python process for every flow run: on this project's
2-core machine that is about two seconds of start-up and imports, for a run whose steps
take 50 ms. ``InProcessRunner`` keeps one process warm instead, and does what a worker
does without the process:

- It learns of new runs by push: it subscribes to Prefect's events and reacts to a run of
  one of its deployments being scheduled. A short poll of
  ``/deployments/get_scheduled_flow_runs`` catches what the subscription missed and runs
  scheduled for later, and marks the deployments ready in the Prefect UI, as a runner's poll does.
- It claims a run by proposing ``Pending``, as workers do, so two serving processes on one
  Prefect server never both take a run; then it executes it with
  ``prefect.flow_engine.run_flow`` in this process (``flows.warm_execution``, which the
  ``skillworks`` worker type shares). Prefect stays the record: every run is a flow run
  with its task runs, states, logs and artifacts.
- A run set ``Cancelling`` (API, CLI, Prefect UI) is asked to stop: its commands are killed
  and the flow, which checks for the request, undoes its work and ends ``Cancelled``
  (``flows.cancellation``). A run that does not stop within a grace period is cancelled
  outright, and recovery undoes it.

What isolation remains, and why it is enough: a step's commands run under the process
guard (they die with their step, its timeout, or this process); runs share this process,
so one that brings it down brings down the others — the launcher starts it again, and
recovery marks those runs ``Crashed`` and undoes them (``flows.recovery``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.exceptions import Abort
from prefect.flows import Flow
from prefect.states import Pending
from prefect.utilities.engine import propose_state

from flows.names import TAG
from flows.warm_execution import WarmExecutions

POLL_SECONDS = 2.0
_WATCHED_EVENTS = ["prefect.flow-run.Scheduled", "prefect.flow-run.Cancelling"]

logger = logging.getLogger("skillworks.runner")


class InProcessRunner:
    """Claims and executes the flow runs of ``flows`` (by deployment id), at most ``limit`` at once."""

    def __init__(
        self, flows: dict[UUID, Flow[..., Any]], limit: int, executions: WarmExecutions,
        by_entrypoint: dict[str, Flow[..., Any]] | None = None,
    ) -> None:
        self.flows = flows
        self.executions = executions
        # Deployments made after start-up (a workflow saved through the API) whose flow this
        # process holds: recognised by their entrypoint, and added to ``flows``.
        self.by_entrypoint = by_entrypoint or {}
        self._slots = asyncio.Semaphore(limit)
        self._claiming: set[UUID] = set()
        self._considering: set[asyncio.Task[None]] = set()  # strong references, as asyncio asks
        # Set when a slot frees: runs left scheduled while all slots were taken are due now,
        # and their events have passed, so the poll looks at once instead of at its next turn.
        self._slot_freed = asyncio.Event()

    async def run_forever(self) -> None:
        async with get_client() as client, self.executions.watching_suspensions(), asyncio.TaskGroup() as group:
            group.create_task(self._listen(client))
            group.create_task(self._poll(client))

    async def _listen(self, client: PrefectClient) -> None:
        """React at once to runs of these deployments being scheduled or asked to cancel."""
        watched = EventFilter(event=EventNameFilter(name=_WATCHED_EVENTS))
        while True:
            try:
                async with get_events_subscriber(filter=watched) as subscriber:
                    async for event in subscriber:
                        flow_run_id = UUID(event.resource.id.removeprefix("prefect.flow-run."))
                        if event.event.endswith("Cancelling"):
                            self.executions.cancel(flow_run_id)
                        elif self._deployment_of(event.related) is not None:
                            self._consider_meanwhile(client, flow_run_id)
            except Exception:  # a server restarting: the poll covers the gap, then subscribe again
                logger.exception("Event subscription lost; subscribing again")
                await asyncio.sleep(POLL_SECONDS)

    def _consider_meanwhile(self, client: PrefectClient, flow_run_id: UUID, flow_run: FlowRun | None = None) -> None:
        """Consider the run in a task of its own, so the subscription (or the poll) goes on meanwhile.

        Claiming takes two calls to the server; awaited one run after another, twenty runs
        scheduled at once started one after another, about half a second apart under load.
        """
        task = asyncio.create_task(self._consider(client, flow_run_id, flow_run))
        self._considering.add(task)
        task.add_done_callback(self._considered)

    def _considered(self, task: asyncio.Task[None]) -> None:
        self._considering.discard(task)
        if not task.cancelled() and task.exception() is not None:  # the poll takes the run instead
            logger.error("Claiming a scheduled run failed", exc_info=task.exception())

    async def _poll(self, client: PrefectClient) -> None:
        loop = asyncio.get_running_loop()
        cancellations_due = loop.time()
        while True:
            try:
                due = await client.get_scheduled_flow_runs_for_deployments(
                    list(self.flows), scheduled_before=datetime.now(timezone.utc)
                )
                for flow_run in due:
                    self._consider_meanwhile(client, flow_run.id, flow_run)
                # Missed cancellations every POLL_SECONDS only, not at each freed slot as well:
                # under load slots free several times a second.
                if loop.time() >= cancellations_due:
                    await self.executions.cancel_requested(client)
                    cancellations_due = loop.time() + POLL_SECONDS
            except Exception:
                logger.exception("Polling for scheduled runs failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._slot_freed.wait(), POLL_SECONDS)
            self._slot_freed.clear()

    def _deployment_of(self, related: list[Any]) -> UUID | None:
        for resource in related:
            if resource.id.startswith("prefect.deployment.") and resource.role == "deployment":
                deployment_id = UUID(resource.id.removeprefix("prefect.deployment."))
                return deployment_id if deployment_id in self.flows or self.by_entrypoint else None
        return None

    async def _flow_of(self, client: PrefectClient, flow_run: FlowRun) -> Flow[..., Any] | None:
        if flow_run.deployment_id is None:
            return None
        flow = self.flows.get(flow_run.deployment_id)
        if flow is None and TAG in flow_run.tags and self.by_entrypoint:
            deployment = await client.read_deployment(flow_run.deployment_id)
            flow = self.by_entrypoint.get(deployment.entrypoint or "")
            if flow is not None:
                self.flows[flow_run.deployment_id] = flow
        return flow

    async def _consider(self, client: PrefectClient, flow_run_id: UUID, flow_run: FlowRun | None = None) -> None:
        """Claim and start the run if it is due, ours, and a slot is free; else leave it scheduled."""
        if flow_run_id in self.executions or flow_run_id in self._claiming or self._slots.locked():
            return
        self._claiming.add(flow_run_id)
        try:
            flow_run = flow_run or await client.read_flow_run(flow_run_id)
            due = flow_run.next_scheduled_start_time or flow_run.expected_start_time
            flow = await self._flow_of(client, flow_run)
            if flow is None or not (flow_run.state and flow_run.state.is_scheduled()):
                return
            if due and due > datetime.now(timezone.utc):
                return  # scheduled for later: the poll takes it when it is due
            await self._slots.acquire()
            started = False
            try:
                if await _claim(client, flow_run):
                    self.executions.start(flow, flow_run).add_done_callback(self._free_slot)
                    started = True
            finally:
                if not started:  # not claimed, or the server did not answer: the slot stays free
                    self._slots.release()
        finally:
            self._claiming.discard(flow_run_id)

    def _free_slot(self, _: asyncio.Task[Any]) -> None:
        self._slots.release()
        self._slot_freed.set()


async def _claim(client: PrefectClient, flow_run: FlowRun) -> bool:
    """Propose ``Pending``: the server grants it to exactly one claimer of a scheduled run."""
    try:
        state = await propose_state(client, Pending(), flow_run_id=flow_run.id)
    except Abort:
        return False
    return state.is_pending()
