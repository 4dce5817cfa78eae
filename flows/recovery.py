"""Recovery: no run that died is left half-done, whatever the order things happened in.

Two things can leave a run's changes in the workspace with nobody to undo them:

- Its process was killed (a crash, the OOM killer, a cancellation): Prefect marks the run
  ``Crashed`` or ``Cancelled``, and the run had no chance to undo itself.
- The serving process died too (``skillworks up`` killed, the machine rebooted): the run's
  own process died with it (it is bound to the serving process, see
  ``flows.skill_flow``), but nobody told Prefect, so the run stays ``Running`` or
  ``Paused`` forever.

``RecoveryService`` runs inside the serving process and inside every ``skillworks`` worker.
At start-up it marks ``Crashed`` every unfinished run whose process on this host is gone
(each run records its host and pid in its journal). Every few seconds it marks ``Crashed``
every unfinished run whose lease in the workspace was abandoned (``skills.execution_lease``:
the process executing it died, on this machine or another sharing the workspace — how a
surviving worker finds the runs of a worker killed mid-run); and it undoes every ``Crashed`` or
``Cancelled`` run whose journal is not undone yet, through the ``rollback`` flow (so the
Prefect UI shows each undo, and a client streaming the run hears of it). It depends on no
event or automation arriving in time: a crash that happened while nothing was serving is
found at the next start, one that happens while serving within seconds. The rollback
deployment's trigger does the same for runs that workers execute; an undo that finds the
journal already undone changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from prefect import get_client, tags
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterEndTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed

from flows.names import TAG
from flows.rollback import ROLLBACK_TAG, rollback, rollback_token
from skills.execution_lease import abandoned_lease, leased_executions
from skills.journal import ExecutionJournal
from skills.workflows.undo import has_changes

UNFINISHED = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED, StateType.CANCELLING]
# States in which a process was (or should be) running the flow.
_HAD_A_PROCESS = [StateType.RUNNING, StateType.PAUSED, StateType.CANCELLING]
# Ended with no chance to undo their own changes.
_ENDED_UNCLEANLY = [StateType.CRASHED, StateType.CANCELLED]
SWEEP_SECONDS = 2.0
# Runs that ended this long before the last sweep are looked at again (clocks and commits lag).
_SWEEP_OVERLAP = timedelta(minutes=2)

logger = logging.getLogger("skillworks.recovery")


class RecoveryService:
    """Crashes orphans once, then keeps undoing runs that ended uncleanly, until cancelled."""

    def __init__(self, workspace_root: Path) -> None:
        self.workspace_root = workspace_root
        self._swept_until: datetime | None = None  # None: look at every run, as at start-up

    async def run_forever(self) -> None:
        orphans_crashed = False
        while True:
            try:
                if not orphans_crashed:
                    await crash_orphaned_executions(self.workspace_root)
                    orphans_crashed = True
                await crash_abandoned_executions(self.workspace_root)
                await self.sweep()
            except Exception:  # a Prefect server restarting must not end recovery
                logger.exception("Recovery failed; trying again in %s s", SWEEP_SECONDS)
            await asyncio.sleep(SWEEP_SECONDS)

    async def sweep(self) -> list[UUID]:
        """Undo every run that ended uncleanly since the last sweep and is not undone yet."""
        started = datetime.now(timezone.utc)
        ended = FlowRunFilterEndTime(after_=self._swept_until - _SWEEP_OVERLAP) if self._swept_until else None
        async with get_client() as client:
            runs = await _all_flow_runs(client, FlowRunFilter(
                tags=FlowRunFilterTags(all_=[TAG]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_ENDED_UNCLEANLY)),
                end_time=ended,
            ))
        undone = [run.id for run in runs if await self._undo_if_needed(run)]
        self._swept_until = started
        return undone

    async def _undo_if_needed(self, run: FlowRun) -> bool:
        journal = ExecutionJournal(self.workspace_root, str(run.id))
        # Once tried is enough: an undo that kept conflicts is a person's to finish (with force).
        if not has_changes(self.workspace_root, str(run.id)) or journal.last_undo() is not None:
            return False
        with tags(ROLLBACK_TAG):
            await rollback(rollback_token=rollback_token(run.id), force=False)
        return True


async def crash_orphaned_executions(workspace_root: Path) -> list[UUID]:
    """Mark ``Crashed`` every unfinished execution whose process on this host is gone."""
    hostname = socket.gethostname()
    crashed: list[UUID] = []
    async with get_client() as client:
        runs = await _all_flow_runs(client, FlowRunFilter(
            tags=FlowRunFilterTags(all_=[TAG]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_HAD_A_PROCESS)),
        ))
        for run in runs:
            owner = ExecutionJournal(workspace_root, str(run.id)).owner()
            if owner is None or owner.hostname != hostname or owner.is_alive():
                continue
            message = f"Its process ({hostname}:{owner.pid}) was gone when skillworks started again."
            await client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            crashed.append(run.id)
    return crashed


async def crash_abandoned_executions(workspace_root: Path) -> list[UUID]:
    """Mark ``Crashed`` every unfinished execution whose lease nobody holds any more."""
    crashed: list[UUID] = []
    async with get_client() as client:
        for execution_id in leased_executions(workspace_root):
            with abandoned_lease(workspace_root, execution_id) as holder:
                if holder is None:
                    continue
                try:
                    run = await client.read_flow_run(UUID(execution_id))
                except ObjectNotFound:
                    continue  # deleted from Prefect: its lease file goes with it
                if run.state is None or run.state.type not in UNFINISHED:
                    continue  # it ended and its process died after: nothing to mark
                message = f"The process executing it ({holder}) died: its lease on the workspace was released."
                await client.set_flow_run_state(run.id, Crashed(message=message), force=True)
                crashed.append(run.id)
    return crashed


async def _all_flow_runs(client: PrefectClient, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
    runs: list[FlowRun] = []
    while True:
        page = await client.read_flow_runs(flow_run_filter=flow_run_filter, limit=200, offset=len(runs))
        runs.extend(page)
        if len(page) < 200:
            return runs
