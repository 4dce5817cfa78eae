"""Workflow benchmarks: ``python bench/workflows.py`` prints the README's rows, writes workflows.json.

On a fresh ``skillworks up`` (temporary folders) with the benchmark skills, once with Prefect's
server on SQLite (the embedded default) and once on PostgreSQL (``bench.postgres``):

- **Fan-out speed-up**: 8 independent nodes that each wait ``WAIT_SECONDS`` on a command
  (I/O-bound, like a download), run as one workflow, against the same 8 nodes chained one
  after another; POST ``/api/workflows/execute`` to ``complete``, wall clock.
- **Orchestration overhead per node**: a chain of 8 nodes that do almost nothing; the
  workflow run's duration minus the sum of its nodes' own flow runs (Prefect's start and end
  times), divided by the number of nodes: what running a skill as a node adds to its own run.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.postgres import temporary_database  # noqa: E402
from bench.stack import running_stack_process  # noqa: E402

RESULTS = Path(__file__).with_name("workflows.json")
BENCH_SKILLS = Path(__file__).with_name("skills")
NODES = 8
WAIT_SECONDS = 5


def spec(workflow_id: str, seconds: float, chained: bool) -> dict[str, Any]:
    prefix = uuid.uuid4().hex[:6]
    nodes = [
        {"id": f"n{i}", "skill": "wait-io", "parameters": {"folder": f"{prefix}-n{i}", "seconds": seconds},
         "depends_on": [f"n{i - 1}"] if chained and i else []}
        for i in range(NODES)
    ]
    return {"id": workflow_id, "name": workflow_id, "nodes": nodes}


def run(api: httpx.Client, body: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    """Wall-clock seconds from POST to the last event, and the events."""
    started = time.perf_counter()
    events = []
    with api.stream("POST", "/api/workflows/execute", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["type"] == "complete", events[-1]
    return time.perf_counter() - started, events


def run_seconds(prefect_api: str, flow_run_id: str) -> float:
    flow_run = httpx.get(f"{prefect_api}/flow_runs/{flow_run_id}").json()
    return (datetime.fromisoformat(flow_run["end_time"]) - datetime.fromisoformat(flow_run["start_time"])).total_seconds()


def measure(environment: dict[str, str]) -> dict[str, float]:
    """The figures on a fresh ``skillworks up`` with ``environment`` added."""
    with running_stack_process({"SKILLWORKS_SKILL_FOLDERS": str(BENCH_SKILLS), **environment}) as stack, \
            httpx.Client(base_url=stack.base, timeout=httpx.Timeout(30, read=600)) as api:
        run(api, {"spec": spec("warm-up", 0, chained=False), "level": "expert"})
        parallel, _ = run(api, {"spec": spec("fan-out", WAIT_SECONDS, chained=False), "level": "expert"})
        sequential, _ = run(api, {"spec": spec("one-by-one", WAIT_SECONDS, chained=True), "level": "expert"})
        _, events = run(api, {"spec": spec("overhead", 0, chained=True), "level": "expert"})
        workflow = run_seconds(stack.prefect_api, events[0]["executionId"])
        nodes = sum(run_seconds(stack.prefect_api, e["executionId"]) for e in events if e["type"] == "node_started")
    return {
        "fanOutSeconds": round(parallel, 2), "oneByOneSeconds": round(sequential, 2),
        "speedUp": round(sequential / parallel, 2), "overheadPerNodeMs": round((workflow - nodes) / NODES * 1000),
    }


def main() -> None:
    figures = {"SQLite": measure({})}
    with temporary_database("bench_workflows") as postgresql:
        connection_url = postgresql.replace("postgresql://", "postgresql+asyncpg://", 1)
        figures["PostgreSQL"] = measure({"PREFECT_API_DATABASE_CONNECTION_URL": connection_url})
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print("| measure | Prefect on SQLite | Prefect on PostgreSQL | goal |\n| --- | --- | --- | --- |")
    print(f"| {NODES} I/O-bound nodes ({WAIT_SECONDS} s each) side by side vs one after another | "
          + " | ".join(f"{f['fanOutSeconds']:.1f} s vs {f['oneByOneSeconds']:.1f} s: {f['speedUp']}x" for f in figures.values())
          + " | at least 6x |")
    print(f"| Orchestration overhead per node (chain of {NODES}, on top of each skill's own run) | "
          + " | ".join(f"{f['overheadPerNodeMs']} ms" for f in figures.values()) + " | under 150 ms |")


if __name__ == "__main__":
    main()
