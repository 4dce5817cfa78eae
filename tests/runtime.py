"""What a run left behind, as tests read it: Prefect's task runs, and live processes."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId


def task_run_names(execution_id: str, expected: int) -> list[str]:
    """The names of an execution's task runs in start order, once at least ``expected`` exist.

    Prefect records task runs from their events, a moment after the flow run ends.
    """

    async def read() -> list[str]:
        async with get_client() as client:
            for _ in range(50):
                runs = await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(execution_id)]))
                )
                if len(runs) >= expected:
                    break
                await asyncio.sleep(0.2)
            return [run.name for run in sorted(runs, key=lambda r: r.expected_start_time)]

    return asyncio.run(read())


def live_processes(matches: Callable[[Path], bool]) -> list[int]:
    """Pids of the processes whose ``/proc/<pid>`` entry ``matches`` (vanishing ones skipped)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and matches(entry):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def processes_working_in(folder: Path) -> list[int]:
    return live_processes(lambda entry: Path(os.readlink(entry / "cwd")).is_relative_to(folder))


def processes_with(marker: str) -> list[int]:
    return live_processes(lambda entry: marker in (entry / "cmdline").read_bytes().decode(errors="replace"))
