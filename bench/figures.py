"""The figures README's benchmark table promises: ``make bench`` measures them and writes them down.

``python bench/figures.py`` starts a fresh ``skillworks up`` (SQLite, temporary folders) and
measures, on it:

- POST ``/api/execute-skill`` to ``started``, to the first step running and to ``complete``
  (react-setup without installs; the median of runs one after another);
- rollback through the API of such a run, and of a run that created 1,000 files;
- executions a minute with 20 in flight at once, and how many were lost (not ``complete``);
- p99 of ``GET /api/skill-metadata`` at 50 clients sending back to back (``bench.load``), through the facade
  of ``skillworks up`` (one process), then through a facade of two processes behind one
  address (``uvicorn --workers 2``);
- the memory (PSS, summed over its processes) of ``skillworks up`` idle, and its peak under
  the 20 concurrent executions.

It prints the table for the README and writes ``bench/figures.json`` beside it. Every figure is
also stored as a ratio to a floor measured in the same run — the same react-setup
generation in a plain Python loop for times, a bare Python interpreter for memory — so
``tests/test_bench_regression.py`` can measure again (fewer repetitions) and fail on a figure
more than twice as bad as the committed one, on a slower machine as on this one.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import CLIENTS, latency  # noqa: E402
from bench.run import plain_python_generation  # noqa: E402
from bench.stack import RunningStack, _free_port, running_stack_process, wait_until_serving  # noqa: E402
from skills.estimates import percentile  # noqa: E402

RESULTS = Path(__file__).with_name("figures.json")
BENCH_SKILLS = Path(__file__).with_name("skills")
CONCURRENT = 20
TERMINAL = ("complete", "error", "cancelled")


@dataclass(frozen=True)
class Sizes:
    """How much of each measurement: ``FULL`` for ``make bench``, ``QUICK`` for the regression test."""

    runs: int  # sequential runs for the POST-to-event medians and the rollbacks
    pause_between_runs: float  # lets the Prefect server take in one run's events before the next
    requests_per_client: int  # enough that a p99 is not one stall's worth of samples
    settle_seconds: float  # before the idle memory is read


FULL = Sizes(runs=7, pause_between_runs=5.0, requests_per_client=100, settle_seconds=15.0)
QUICK = Sizes(runs=3, pause_between_runs=2.0, requests_per_client=40, settle_seconds=5.0)


class Figure(BaseModel):
    value: float
    unit: Literal["ms", "per minute", "MB"]
    # What the figure costs in units of its floor (times and memory as they are, a throughput as
    # the time per execution): lower is better, and it is what the regression check compares.
    ratio: float
    label: str
    target: str


class Figures(BaseModel):
    floors: dict[str, float]  # generation_ms, python_mb
    figures: dict[str, Figure]
    lost_executions: int
    cpu_count: int


def react_request(prefix: str) -> dict:
    return {
        "skillId": "react-setup", "level": "expert", "persona": "full-stack",
        "parameters": {"projectName": f"{prefix}-{uuid.uuid4().hex[:8]}", "installDependencies": False},
    }


def execute(client: httpx.Client, request: dict) -> dict[str, float | str]:
    """Run one execution through the API: seconds to each milestone, its rollback token, its end."""
    marks: dict[str, float | str] = {}
    posted = time.perf_counter()
    with client.stream("POST", "/api/execute-skill", json=request) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            elapsed = time.perf_counter() - posted
            if event["type"] == "started":
                marks["started"] = elapsed
            elif event["type"] == "step_progress" and "first_step" not in marks:
                marks["first_step"] = elapsed
            elif event["type"] in TERMINAL:
                marks["end"], marks["outcome"] = elapsed, event["type"]
                marks["rollback_token"] = event.get("rollbackToken", "")
                break
    return marks


def sequential_runs(base: str, sizes: Sizes) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"started": [], "first_step": [], "complete": [], "rollback": []}
    with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=120)) as client:
        execute(client, react_request("warm-up"))
        for _ in range(sizes.runs):
            time.sleep(sizes.pause_between_runs)
            marks = execute(client, react_request("bench"))
            assert marks["outcome"] == "complete", marks
            for name in ("started", "first_step"):
                timings[name].append(float(marks[name]))
            timings["complete"].append(float(marks["end"]))
            timings["rollback"].append(api_rollback(client, str(marks["rollback_token"])))
    return timings


def api_rollback(client: httpx.Client, token: str) -> float:
    started = time.perf_counter()
    response = client.post("/api/rollback", json={"rollbackToken": token})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and not response.json()["conflicts"], response.text
    return elapsed


def rollback_of_many_files(base: str, files: int = 1000) -> float:
    request = {"skillId": "many-files", "level": "expert", "persona": "full-stack",
               "parameters": {"folder": f"many-{uuid.uuid4().hex[:8]}", "files": files}}
    with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=300)) as client:
        marks = execute(client, request)
        assert marks["outcome"] == "complete", marks
        return api_rollback(client, str(marks["rollback_token"]))


def concurrent_runs(base: str, stack_pid: int) -> tuple[float, int, float]:
    """``CONCURRENT`` executions at once: executions a minute, how many did not complete, peak MB."""
    peak = [0.0]
    done = threading.Event()

    def sample_memory() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_memory_mb(stack_pid))

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()

    def one(_: int) -> str:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=300)) as client:
            return str(execute(client, react_request("load"))["outcome"])

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        outcomes = list(pool.map(one, range(CONCURRENT)))
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    return CONCURRENT / wall * 60, sum(1 for outcome in outcomes if outcome != "complete"), peak[0]


def metadata_p99(base: str, sizes: Sizes) -> float:
    samples = asyncio.run(latency(base, "GET", "/api/skill-metadata", None, 0.0, sizes.requests_per_client))
    return percentile(samples, 0.99)


@contextmanager
def two_process_facade(stack: RunningStack) -> Iterator[str]:
    """A facade of two uvicorn worker processes behind one port, joined to the stack's Prefect and workspace."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "service.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log"],
        env={**os.environ, **stack.environment}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, 90, lambda: "the two-process facade did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def tree_memory_mb(root: int) -> float:
    """PSS of ``root`` and every process under it, in MB (shared pages counted once overall)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(_pss_kb(pid) for pid in tree) / 1024


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def bare_python_mb() -> float:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(1)
        return _pss_kb(process.pid) / 1024
    finally:
        process.kill()
        process.wait()


def measure(sizes: Sizes) -> Figures:
    floor_samples = plain_python_generation()
    python_mb = bare_python_mb()
    with running_stack_process({"SKILLWORKS_SKILL_FOLDERS": str(BENCH_SKILLS)}) as stack:
        time.sleep(sizes.settle_seconds)
        idle_mb = tree_memory_mb(stack.pid)
        timings = sequential_runs(stack.base, sizes)
        many_files = rollback_of_many_files(stack.base)
        per_minute, lost, load_mb = concurrent_runs(stack.base, stack.pid)
        p99_one = metadata_p99(stack.base, sizes)
        with two_process_facade(stack) as two:
            p99_two = metadata_p99(two, sizes)
    # Measured before and after: the floor sees the same load as the figures around it.
    generation_ms = statistics.median(floor_samples + plain_python_generation()) * 1000

    def time_figure(seconds: float, label: str, target: str) -> Figure:
        return Figure(value=round(seconds * 1000, 1), unit="ms", ratio=seconds * 1000 / generation_ms, label=label, target=target)

    def memory_figure(mb: float, label: str, target: str) -> Figure:
        return Figure(value=round(mb, 1), unit="MB", ratio=mb / python_mb, label=label, target=target)

    figures = {
        "post_to_started": time_figure(statistics.median(timings["started"]), "POST execute-skill → `started` (react-setup, no installs)", "—"),
        "post_to_first_step": time_figure(statistics.median(timings["first_step"]), "POST execute-skill → first step running", "—"),
        "post_to_complete": time_figure(statistics.median(timings["complete"]), "POST execute-skill → `complete`", "< 1 s"),
        "api_rollback": time_figure(statistics.median(timings["rollback"]), "POST /api/rollback of that run", "—"),
        "api_rollback_1000_files": time_figure(many_files, "POST /api/rollback of a run that created 1,000 files", "< 1 s"),
        "executions_per_minute": Figure(
            value=round(per_minute, 1), unit="per minute", ratio=60000 / per_minute / generation_ms,
            label=f"Executions a minute, {CONCURRENT} at once (react-setup, no installs)", target="≥ 100, none lost",
        ),
        "metadata_p99_one_facade": time_figure(p99_one / 1000, f"GET /api/skill-metadata p99, {CLIENTS} clients, one facade process", "—"),
        "metadata_p99_two_facades": time_figure(p99_two / 1000, f"GET /api/skill-metadata p99, {CLIENTS} clients, two facade processes", "< 20 ms"),
        "memory_idle": memory_figure(idle_mb, "Memory of `skillworks up`, idle (PSS of all its processes)", "< 600 MB"),
        "memory_under_load": memory_figure(load_mb, f"Memory of `skillworks up`, peak during {CONCURRENT} concurrent executions", "—"),
    }
    return Figures(
        floors={"generation_ms": round(generation_ms, 1), "python_mb": round(python_mb, 1)},
        figures=figures, lost_executions=lost, cpu_count=os.cpu_count() or 0,
    )


def table(figures: Figures) -> str:
    rows = ["| measure | result | target |", "| --- | --- | --- |"]
    for name, figure in figures.figures.items():
        value = f"{figure.value:g} {figure.unit}" if figure.unit != "ms" or figure.value < 1000 else f"{figure.value / 1000:.2f} s"
        if name == "executions_per_minute":
            value += f", {figures.lost_executions} lost"
        rows.append(f"| {figure.label} | {value} | {figure.target} |")
    floors = figures.floors
    rows.append(f"| Floor: the same generation in a plain Python loop | {floors['generation_ms']:g} ms | — |")
    rows.append(f"| Floor: a bare Python interpreter | {floors['python_mb']:g} MB | — |")
    return "\n".join(rows)


def main() -> None:
    figures = measure(FULL)
    RESULTS.write_text(figures.model_dump_json(indent=2) + "\n")
    print(table(figures))


if __name__ == "__main__":
    main()
