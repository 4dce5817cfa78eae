"""A run whose processes are killed mid-step is rolled back automatically after a restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ServingProcess
from tests.runtime import processes_working_in
from tests.sse import read_events
from tests.test_execution_stream import react_request, unique
from tests.tree import tree_fingerprint


def test_sigkill_during_npm_install_then_restart_rolls_the_run_back(
    facade: str, served_skills: ServingProcess, workspace: Path
) -> None:
    before = tree_fingerprint(workspace)
    name = unique("killed")
    events: list[dict] = []
    installing = threading.Event()

    def follow() -> None:
        with httpx.Client(base_url=facade, timeout=httpx.Timeout(30, read=300)) as client:
            request = react_request(name, installDependencies=True)
            with client.stream("POST", "/api/execute-skill", json=request) as response:
                for _, data in read_events(response):
                    events.append(data)
                    if data.get("stepId") == "install-dependencies" and data["type"] == "step_progress":
                        installing.set()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert installing.wait(timeout=120), events
    time.sleep(1.0)  # npm is now writing node_modules

    served_skills.kill()
    assert (workspace / name).exists(), "the run was killed half-way, leaving its files"
    time.sleep(1.0)
    assert processes_working_in(workspace / name) == [], "npm died with the process that ran the step"
    served_skills.start()

    execution_id = events[0]["executionId"]
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=facade, timeout=30) as client:
        while client.get(f"/api/executions/{execution_id}").json()["status"] != "rolled_back":
            assert time.monotonic() < deadline, client.get(f"/api/executions/{execution_id}").json()
            time.sleep(1)
    assert tree_fingerprint(workspace) == before
    follower.join(timeout=60)
    assert events[-1]["type"] == "error"
