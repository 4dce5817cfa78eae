"""Where the time of one run goes: ``python bench/profile_run.py`` prints each phase's median.

From ``POST /api/execute-skill`` to the ``complete`` event for react-setup without installs,
split by the timestamps Prefect records (the flow run's states, its first and last task
runs) and the events the client receives:

- ``created``: the facade validates and creates the flow run (POST until ``started``);
- ``picked up``: the run waits until the serving process claims it (Scheduled -> Pending);
- ``started``: the serving process starts the run (Pending -> Running);
- ``steps``: from Running to the end of the last step's task run;
- ``finished``: from the last step to the final state;
- ``to client``: from the final state to the client reading ``complete``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import running_stack  # noqa: E402

RUNS = 8


def one_run(base: str) -> tuple[str, float, float, float]:
    """Execute react-setup; return its id, and the seconds to ``started`` and to ``complete``."""
    request = {
        "skillId": "react-setup", "level": "expert", "persona": "full-stack",
        "parameters": {"projectName": f"profile-{uuid.uuid4().hex[:8]}", "installDependencies": False},
    }
    posted = time.time()
    started_at = complete_at = 0.0
    with httpx.stream("POST", f"{base}/api/execute-skill", json=request, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and '"type":"started"' in line:
                started_at = time.time()
                execution_id = line.split('"executionId":"', 1)[1].split('"', 1)[0]
            if line.startswith("data: ") and '"type":"complete"' in line:
                complete_at = time.time()
    return execution_id, posted, started_at, complete_at


async def phases(prefect_api: str, execution_id: str, posted: float, started: float, complete: float) -> dict[str, float]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        states = {state.name: state.timestamp.timestamp() for state in await client.read_flow_run_states(uuid.UUID(execution_id))}
        tasks = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(execution_id)])))
    last_step_end = max(task.end_time.timestamp() for task in tasks if task.end_time)
    final = states["Completed"]
    return {
        "created": started - posted,
        "picked up": states["Pending"] - states["Scheduled"],
        "started": states["Running"] - states["Pending"],
        "steps": last_step_end - states["Running"],
        "finished": final - last_step_end,
        "to client": complete - final,
        "total": complete - posted,
    }


def main() -> None:
    with running_stack() as (base, _workspace, prefect_api):
        import os

        os.environ["PREFECT_API_URL"] = prefect_api
        one_run(base)  # warm-up: first imports, first connections
        measured = [asyncio.run(phases(prefect_api, *one_run(base))) for _ in range(RUNS)]
    print("| phase | median (s) |\n| --- | --- |")
    for name in measured[0]:
        print(f"| {name} | {statistics.median(m[name] for m in measured):.3f} |")


if __name__ == "__main__":
    main()
