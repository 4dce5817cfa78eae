"""Finding executions whose process died with the machine or the serving process.

Prefect marks a run ``Crashed`` when its runner sees the process die. When the runner
died too (``skillworks up`` killed, the machine rebooted), the run stays ``Running``
forever. At start-up, the serving process looks for such runs: each execution records
its host and pid in its journal, and a run whose process is gone from this host is
marked ``Crashed`` — which fires the rollback deployment's trigger, like any crash.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType, FlowRunFilterTags
from prefect.client.schemas.objects import StateType
from prefect.states import Crashed

from flows.names import TAG
from skills.journal import ExecutionJournal

UNFINISHED = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED, StateType.CANCELLING]
# States in which a process was (or should be) running the flow.
_HAD_A_PROCESS = [StateType.RUNNING, StateType.PAUSED, StateType.CANCELLING]


async def crash_orphaned_executions(workspace_root: Path) -> list[UUID]:
    """Mark ``Crashed`` every unfinished execution whose process on this host is gone."""
    hostname = socket.gethostname()
    crashed: list[UUID] = []
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[TAG]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_HAD_A_PROCESS)),
            )
        )
        for run in runs:
            owner = ExecutionJournal(workspace_root, str(run.id)).owner()
            if owner is None or owner.hostname != hostname or _is_alive(owner.pid):
                continue
            message = f"Its process ({hostname}:{owner.pid}) was gone when skillworks started again."
            await client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            crashed.append(run.id)
    return crashed


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
