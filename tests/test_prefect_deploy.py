"""Scale-out as README says: ``prefect deploy --all`` from ``prefect.yaml``, then a worker runs skills.

This module uses a Prefect server of its own, not the session one: the deployments in
``prefect.yaml`` have the served deployments' names on purpose (so the facade starts runs
the same way on workers), and on the session server the served process would race the
worker for the run and this test could not tell which one executed it.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    REPO,
    SESSION_DIR,
    free_port,
    start_process,
    stop_process,
    wait_until_ok,
)

SKILLS = ["cicd-pipeline", "docker-config", "react-setup", "rest-api", "security-audit"]
WORKFLOWS = ["approved-release", "full-stack-starter", "nightly-audit", "services-fan-out"]
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture(scope="module")
def worker_server() -> Iterator[dict[str, str]]:
    """A second Prefect server (own PREFECT_HOME): the environment to point Prefect's CLI at it."""
    port = free_port()
    env = {
        "PREFECT_HOME": str(SESSION_DIR / "deploy-prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
    }
    server = start_process(
        "deploy-prefect-server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
    )
    wait_until_ok(f"{env['PREFECT_API_URL']}/health", server, "deploy-prefect-server")
    yield env
    stop_process(server)


@pytest.fixture(scope="module")
def deployed(worker_server: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The work pool created and ``prefect --no-prompt deploy --all`` run from the repository root."""
    prefect(worker_server, "work-pool", "create", "skillworks", "--type", "process")
    prefect(worker_server, "--no-prompt", "deploy", "--all")
    response = httpx.post(f"{worker_server['PREFECT_API_URL']}/deployments/filter", json={"limit": 50})
    response.raise_for_status()
    return {deployment["name"]: deployment for deployment in response.json()}


def prefect(env: dict[str, str], *arguments: str) -> None:
    log = SESSION_DIR / "deploy-prefect-cli.log"
    process = start_process("deploy-prefect-cli", [sys.executable, "-m", "prefect", *arguments], env)
    assert process.wait(timeout=180) == 0, f"prefect {' '.join(arguments)} failed:\n{log.read_text()[-3000:]}"


def test_deploy_all_creates_a_worker_deployment_per_skill_and_rollback(deployed: dict[str, dict[str, Any]]) -> None:
    assert sorted(deployed) == sorted([*SKILLS, "rollback", *WORKFLOWS, "inline"])
    for skill_id in SKILLS:
        deployment = deployed[skill_id]
        assert set(deployment["tags"]) == {"skillworks", f"skill:{skill_id}"}
        assert deployment["work_pool_name"] == "skillworks"
        assert deployment["entrypoint"] == f"flows.skill_flows.{skill_id.replace('-', '_')}"
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
        ]


def test_rollback_is_triggered_by_crashed_or_cancelled_skillworks_runs(
    worker_server: dict[str, str], deployed: dict[str, dict[str, Any]]
) -> None:
    rollback = deployed["rollback"]
    automations = httpx.post(f"{worker_server['PREFECT_API_URL']}/automations/filter", json={}).json()
    [trigger] = [a["trigger"] for a in automations if a["name"] == "Roll back crashed or cancelled skillworks runs"]
    [action] = [a for a in automations if a["name"] == "Roll back crashed or cancelled skillworks runs"][0]["actions"]

    assert rollback["entrypoint"] == "flows.rollback.rollback" and rollback["work_pool_name"] == "skillworks"
    assert set(trigger["expect"]) == {"prefect.flow-run.Crashed", "prefect.flow-run.Cancelled"}
    assert trigger["match_related"] == {"prefect.resource.id": "prefect.tag.skillworks"}
    assert action["deployment_id"] == rollback["id"]
    assert action["parameters"]["rollback_token"] == "rollback-{{ event.resource.id | replace('prefect.flow-run.', '') }}"


def test_the_example_schedule_is_created_inactive(deployed: dict[str, dict[str, Any]]) -> None:
    [schedule] = deployed["security-audit"]["schedules"]

    assert schedule["schedule"]["cron"] == "0 6 * * 1"
    assert schedule["active"] is False


def test_every_example_workflow_is_deployed_and_the_nightly_audit_is_scheduled_inactive(
    deployed: dict[str, dict[str, Any]],
) -> None:
    for workflow_id in WORKFLOWS:
        deployment = deployed[workflow_id]
        assert deployment["entrypoint"] == "flows.workflow_flow.run_workflow"
        assert deployment["parameters"] == {"workflow_id": workflow_id}
        assert set(deployment["tags"]) == {"skillworks", f"workflow:{workflow_id}"}
    [nightly] = deployed["nightly-audit"]["schedules"]
    assert nightly["schedule"]["cron"] == "0 2 * * *" and nightly["active"] is False


def test_a_worker_runs_a_deployed_skill(
    worker_server: dict[str, str], deployed: dict[str, dict[str, Any]], workspace: Path
) -> None:
    api = worker_server["PREFECT_API_URL"]
    name = f"worker-{uuid.uuid4().hex[:8]}"
    worker = start_process(
        "deploy-worker",
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "skillworks"],
        {**worker_server, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "5"},
    )
    try:
        created = httpx.post(
            f"{api}/deployments/{deployed['react-setup']['id']}/create_flow_run",
            json={"parameters": {"parameters": {"projectName": name, "installDependencies": False}, "level": "expert"}},
        )
        created.raise_for_status()
        flow_run = wait_until_terminal(api, created.json()["id"], worker)
    finally:
        stop_process(worker)

    assert flow_run["state"]["type"] == "COMPLETED", flow_run["state"]
    assert (workspace / name / "package.json").is_file()
    assert created.json()["id"] in (SESSION_DIR / "deploy-worker.log").read_text()


def wait_until_terminal(api: str, flow_run_id: str, worker: Any, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}").json()
        if flow_run["state"]["type"] in TERMINAL:
            return flow_run
        assert worker.poll() is None, (SESSION_DIR / "deploy-worker.log").read_text()[-3000:]
        time.sleep(0.5)
    raise AssertionError(f"flow run {flow_run_id} not finished after {seconds} s:\n{(SESSION_DIR / 'deploy-worker.log').read_text()[-3000:]}")
