"""A scripted mix of runs of the ``observed`` fixture skill, run once per test session.

Completed (at different speeds), completed with a non-critical step failing, failed at a
critical step with a diagnosed failure, completed then rolled back, and cancelled while a
command runs: what the metrics, analytics and estimates tests then read back. A second
facade, in two processes sharing a ``PROMETHEUS_MULTIPROC_DIR``, watches the same runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import SESSION_DIR, running_facade
from tests.sse import read_events

SKILL = "observed"
COMPLETE_DELAYS_MS = (0, 150, 300, 450, 600)


@dataclass(frozen=True)
class ObservedRun:
    execution_id: str
    outcome: str  # what was asked: complete, warn, fail, hang
    final: str  # the stream's terminal event type


@dataclass(frozen=True)
class ObservedMix:
    runs: list[ObservedRun]
    rolled_back: str  # the execution id undone after it completed
    multiprocess_facade: str  # base URL of the two-process facade

    def ids(self, final: str | None = None) -> list[str]:
        return [run.execution_id for run in self.runs if final is None or run.final == final]


def observed_request(outcome: str = "complete", delay_ms: int = 0) -> dict[str, Any]:
    return {
        "skillId": SKILL, "level": "expert", "persona": "full-stack",
        "parameters": {"folder": f"observed-{uuid.uuid4().hex[:8]}", "outcome": outcome, "delayMs": delay_ms},
    }


def run_observed(base: str, outcome: str = "complete", delay_ms: int = 0) -> ObservedRun:
    """Run ``observed`` to its end through the facade at ``base``; a ``hang`` run is cancelled mid-command."""
    with httpx.Client(base_url=base, timeout=httpx.Timeout(30, read=180)) as client:
        with client.stream("POST", "/api/execute-skill", json=observed_request(outcome, delay_ms)) as response:
            assert response.status_code == 200, response.read()
            execution_id = ""
            for _, event in read_events(response):
                execution_id = event.get("executionId", execution_id)
                if outcome == "hang" and event["type"] == "step_progress" and event["stepId"] == "finish":
                    time.sleep(0.5)  # let the step start its command
                    assert client.post(f"/api/executions/{execution_id}/cancel").status_code == 200
                if event["type"] in ("complete", "error", "cancelled"):
                    return ObservedRun(execution_id, outcome, event["type"])
    raise AssertionError(f"the stream of {execution_id} ended without a terminal event")


@pytest.fixture(scope="session")
def observed_mix(facade: str) -> Iterator[ObservedMix]:
    directory = SESSION_DIR / "prometheus-multiproc"
    directory.mkdir()
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with running_facade("multiprocess-facade", env=environment, workers=2) as multiprocess_base:
        plan = [("complete", delay) for delay in COMPLETE_DELAYS_MS]
        plan += [("warn", 0), ("fail", 0), ("fail", 0), ("complete", 0), ("hang", 0)]
        with ThreadPoolExecutor(max_workers=4) as pool:  # the serving process runs four at a time
            runs = list(pool.map(lambda item: run_observed(facade, *item), plan))
        to_undo = runs[-2]
        assert to_undo.final == "complete"
        undone = httpx.post(f"{facade}/api/rollback", json={"rollbackToken": f"rollback-{to_undo.execution_id}"}, timeout=60)
        assert undone.status_code == 200, undone.text
        yield ObservedMix(runs, to_undo.execution_id, multiprocess_base)
