"""The ``skillworks`` worker type: a Prefect worker that executes runs inside its warm process.

``prefect worker start --pool skillworks`` (on a pool of type ``skillworks``) starts it on
any machine with skillworks installed. It is Prefect's ``BaseWorker``: it registers with the
work pool and heartbeats (the Prefect UI lists it), polls the pool's queues, and claims a run
by proposing ``Pending`` — so any number of workers share a pool and each run goes to exactly
one. What it does differently from the ``process`` worker, and why:

- It executes a claimed run in its own process with Prefect's flow engine
  (``flows.warm_execution``, shared with ``skillworks up``'s serving process) instead of
  starting a Python process per run: about two seconds of start-up and imports saved on
  runs whose steps take tens of milliseconds. The deployment's entrypoint must therefore be
  an import path of the installed package (``flows.skill_flows.react_setup``, as in
  ``prefect.yaml``); pull steps are not run (nothing to pull: the code is installed).
- It hears of new runs by push: it subscribes to Prefect's events and polls its pool as
  soon as a run in the pool is scheduled; the regular poll stays as the safety net.
- It runs skillworks' recovery (``flows.recovery``): a worker killed mid-run leaves its runs'
  leases in the shared workspace released, and the workers still alive mark those runs
  ``Crashed`` within seconds and undo them.
- Cancelling a running run asks it to stop (its commands die, it undoes, it ends ``Cancelled``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import anyio.abc
from prefect.client.schemas.objects import FlowRun
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.workers.base import BaseJobConfiguration, BaseVariables, BaseWorker, BaseWorkerResult

from blocks.settings import load_settings
from flows.recovery import RecoveryService
from flows.shared_tls import share_tls_context
from flows.warm_execution import WarmExecutions
from skills.errors import UserMessageError

WORKER_TYPE = "skillworks"
_WATCHED_EVENTS = ["prefect.flow-run.Scheduled", "prefect.flow-run.Cancelling"]
_RESUBSCRIBE_SECONDS = 2.0

logger = logging.getLogger("skillworks.worker")


class NotAnImportPath(UserMessageError):
    def __init__(self, entrypoint: str) -> None:
        super().__init__(
            f"The deployment's entrypoint {entrypoint!r} is a file path; the skillworks worker runs flows of the "
            "installed package in its own process.",
            ["Deploy with an import path (module.flow, as prefect.yaml does), or use a process work pool."],
        )


class SkillworksJobConfiguration(BaseJobConfiguration):
    """Nothing to configure per run: runs execute in the worker's process."""


class SkillworksVariables(BaseVariables):
    """The pool's variables: Prefect's base ones (name, env, labels, command) are accepted and unused."""


class SkillworksWorkerResult(BaseWorkerResult):
    """The run's final state is in Prefect; the result says whether the engine returned one."""


class SkillworksWorker(BaseWorker[SkillworksJobConfiguration, SkillworksVariables, SkillworksWorkerResult]):
    type = WORKER_TYPE
    job_configuration = SkillworksJobConfiguration
    job_configuration_variables = SkillworksVariables
    _description = "Executes skillworks runs inside the worker's warm process with Prefect's flow engine."
    _documentation_url = "https://docs.prefect.io/v3/deploy/infrastructure-concepts/workers"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flows: dict[UUID, Flow[..., Any]] = {}
        self._executions: WarmExecutions | None = None

    async def start(self, run_once: bool = False, with_healthcheck: bool = False, printer: Any = print) -> None:
        """Prefect's worker loops, plus the event listener and recovery, until stopped."""
        share_tls_context()
        workspace_root = (await load_settings()).workspace_root
        self._executions = WarmExecutions(workspace_root)
        async with self._executions.watching_suspensions():
            await self._serve(workspace_root, run_once, with_healthcheck, printer)

    async def _serve(self, workspace_root: Path, run_once: bool, with_healthcheck: bool, printer: Any) -> None:
        if run_once:
            await super().start(run_once=True, with_healthcheck=with_healthcheck, printer=printer)
            return
        async with anyio.create_task_group() as group:
            group.start_soon(self._listen)
            group.start_soon(RecoveryService(workspace_root).run_forever)
            await super().start(with_healthcheck=with_healthcheck, printer=printer)
            group.cancel_scope.cancel()

    async def run(
        self,
        flow_run: FlowRun,
        configuration: SkillworksJobConfiguration,
        task_status: anyio.abc.TaskStatus[int] | None = None,
    ) -> SkillworksWorkerResult:
        assert self._executions is not None, "start() sets up the executions"
        flow = await self._flow_of(flow_run)
        execution = self._executions.start(flow, flow_run)
        if task_status is not None:
            task_status.started(os.getpid())
        state = await execution
        return SkillworksWorkerResult(identifier=str(flow_run.id), status_code=0 if state is not None else 1)

    async def _flow_of(self, flow_run: FlowRun) -> Flow[..., Any]:
        """The deployment's flow, imported once per deployment and kept (the process stays warm)."""
        assert flow_run.deployment_id is not None, "workers only receive deployment runs"
        flow = self._flows.get(flow_run.deployment_id)
        if flow is None:
            deployment = await self.client.read_deployment(flow_run.deployment_id)
            entrypoint = deployment.entrypoint or ""
            if ":" in entrypoint or not entrypoint:
                raise NotAnImportPath(entrypoint)
            flow = self._flows[flow_run.deployment_id] = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
        return flow

    async def _listen(self) -> None:
        """Poll the pool as soon as one of its runs is scheduled; stop a run of ours asked to cancel."""
        watched = EventFilter(event=EventNameFilter(name=_WATCHED_EVENTS))
        while True:
            try:
                async with get_events_subscriber(filter=watched) as subscriber:
                    async for event in subscriber:
                        await self._react(event.event, event.resource.id, [r.id for r in event.related])
            except Exception:  # a server restarting: the regular poll covers the gap
                logger.exception("Event subscription lost; subscribing again")
            await asyncio.sleep(_RESUBSCRIBE_SECONDS)

    async def _react(self, name: str, resource_id: str, related: list[str]) -> None:
        assert self._executions is not None
        if name.endswith("Cancelling"):
            self._executions.cancel(UUID(resource_id.removeprefix("prefect.flow-run.")))
        elif self._work_pool is not None and f"prefect.work-pool.{self._work_pool.id}" in related:
            await self.get_and_submit_flow_runs()
