"""skillworks benchmarks: ``python bench/run.py`` prints a Markdown table for the README.

Measured on whatever machine runs it (numbers in the README come from the 2-core machine
the project is developed on). Nothing here is asserted: timings on a shared machine are
noisy, so targets are checked by reading these numbers, not by tests.

1. API latency: p50/p99 of ``GET /api/skill-metadata`` and ``POST /api/validate-skill``
   under 50 concurrent clients.
2. Execution: time from ``POST /api/execute-skill`` to the ``started`` event and to
   ``complete`` for react-setup without installs; and the same generation done by a plain
   Python loop over the step functions (no Prefect, no events), as the floor.
3. Rollback of an execution that created 1,000 files, and the journal's overhead per
   written file against a plain atomic write.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import CLIENTS, latency  # noqa: E402
from bench.stack import running_stack  # noqa: E402
from skills.catalog import load_builtin_catalog, step_functions  # noqa: E402
from skills.context import StepContext  # noqa: E402
from skills.estimates import percentile  # noqa: E402
from skills.journal import ExecutionJournal, write_atomically  # noqa: E402
from skills.planning import preflight  # noqa: E402
from skills.runner import run_steps_blocking  # noqa: E402
from skills.workspace import Workspace  # noqa: E402

REQUESTS_PER_CLIENT = 20
EXECUTIONS = 5
IDLE_BETWEEN_RUNS_SECONDS = 10
PACED_PAUSE_SECONDS = 1.0


def execution_timings(base: str) -> tuple[list[float], list[float]]:
    to_started, to_complete = [], []
    with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=120)) as client:
        for _ in range(EXECUTIONS):
            # The Prefect server (SQLite, 2 cores) needs a few seconds to take in a run's events;
            # runs back to back would measure that instead of one run.
            time.sleep(IDLE_BETWEEN_RUNS_SECONDS)
            request = {
                "skillId": "react-setup", "level": "expert", "persona": "full-stack",
                "parameters": {"projectName": f"bench-{uuid.uuid4().hex[:8]}", "installDependencies": False},
            }
            posted = time.perf_counter()
            with client.stream("POST", "/api/execute-skill", json=request) as response:
                for line in response.iter_lines():
                    if not line.startswith("data: "):
                        continue
                    kind = json.loads(line[6:])["type"]
                    if kind == "started":
                        to_started.append(time.perf_counter() - posted)
                    if kind == "complete":
                        to_complete.append(time.perf_counter() - posted)
                    if kind in ("complete", "error", "cancelled"):
                        break
    return to_started, to_complete


def plain_python_generation() -> list[float]:
    """The floor: the same steps, journaled, in a loop, with no orchestration at all."""
    skill = load_builtin_catalog().get("react-setup")
    functions = step_functions(skill)
    timings = []
    for _ in range(EXECUTIONS):
        root = Path(tempfile.mkdtemp(prefix="skillworks-floor-"))
        started = time.perf_counter()
        checked = preflight(skill, {"projectName": "floor", "installDependencies": False}, "expert", "full-stack", root)
        workspace = Workspace(root, ExecutionJournal(root, "floor"))
        context = StepContext(skill=skill, params=checked.values, level="expert", persona="full-stack",
                              workspace=workspace, environment=checked.environment)
        run_steps_blocking(context, functions)
        timings.append(time.perf_counter() - started)
    return timings


def rollback_of_1000_files() -> tuple[float, float, float]:
    root = Path(tempfile.mkdtemp(prefix="skillworks-rollback-"))
    workspace = Workspace(root, ExecutionJournal(root, "big"))
    payload = b"x" * 2048
    started = time.perf_counter()
    for index in range(1000):
        workspace.write_bytes(f"project/dir{index % 20}/file{index}.txt", payload)
    journaled = (time.perf_counter() - started) / 1000
    started = time.perf_counter()
    for index in range(1000):
        write_atomically(root / "plain" / f"dir{index % 20}" / f"file{index}.txt", payload)
    plain = (time.perf_counter() - started) / 1000
    started = time.perf_counter()
    report = workspace.journal.undo()
    undo = time.perf_counter() - started
    assert report.complete and not (root / "project").exists()
    return undo, journaled, plain


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    validate_body = {"skillId": "react-setup", "parameters": {"projectName": "bench-app"}, "level": "expert"}
    operations = (("GET /api/skill-metadata", "GET", "/api/skill-metadata", None),
                  ("POST /api/validate-skill", "POST", "/api/validate-skill", validate_body))
    with running_stack() as (base, _workspace, _prefect_api):
        for name, method, path, body in operations:
            for pause, how in ((0.0, "back to back"), (PACED_PAUSE_SECONDS, f"{PACED_PAUSE_SECONDS * 1000:.0f} ms apart")):
                samples = asyncio.run(latency(base, method, path, body, pause, REQUESTS_PER_CLIENT))
                result = f"p50 {percentile(samples, .5):.1f} ms, p99 {percentile(samples, .99):.1f} ms"
                rows.append((f"{name}, {CLIENTS} clients, requests {how}", result, "p99 < 10 ms"))
        to_started, to_complete = execution_timings(base)
    rows.append(("POST execute-skill → `started` (react-setup, no installs)", f"median {statistics.median(to_started) * 1000:.0f} ms", "< 1 s"))
    rows.append(("POST execute-skill → `complete` (react-setup, no installs)", f"median {statistics.median(to_complete):.2f} s, max {max(to_complete):.2f} s", "< 5 s"))
    rows.append(("Same generation in a plain Python loop (the floor)", f"median {statistics.median(plain_python_generation()) * 1000:.0f} ms", "—"))
    undo, journaled, plain = rollback_of_1000_files()
    rows.append(("Rollback of an execution that created 1,000 files", f"{undo:.2f} s", "< 2 s"))
    rows.append(("Journaled write per file vs plain atomic write", f"{journaled * 1e3:.2f} ms vs {plain * 1e3:.2f} ms", "—"))
    print("| measure | result | target |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
