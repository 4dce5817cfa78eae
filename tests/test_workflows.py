"""Workflows through the API: checked before anything runs, run as Prefect subflows side by side,
undone as a saga when a late node fails, retried from the failed node, paused for approval."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from skills.catalog import load_builtin_catalog
from tests.conftest import ServingProcess
from tests.skill_runner import execute_steps, files_on_disk
from tests.sse import read_events
from tests.tree import tree_fingerprint


def run_workflow(api: httpx.Client, body: dict[str, Any], answer: bool | None = None) -> list[dict[str, Any]]:
    """Execute a workflow and read its stream to the end; ``answer`` confirms (or declines) each pause."""
    with api.stream("POST", "/api/workflows/execute", json=body) as response:
        assert response.status_code == 200, response.read()
        events = []
        for _, event in read_events(response):
            events.append(event)
            if event["type"] == "awaiting_confirmation" and answer is not None:
                confirmed = api.post(f"/api/executions/{event['executionId']}/confirm", json={"proceed": answer})
                assert confirmed.status_code == 200, confirmed.text
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["type"] == kind]


def prefect_flow_run(prefect_server: str, flow_run_id: str) -> dict[str, Any]:
    return httpx.get(f"{prefect_server}/flow_runs/{flow_run_id}").json()


def history_count(api: httpx.Client) -> int:
    return api.get("/api/execution-history", params={"limit": 1}).json()["count"]


def test_a_cyclic_workflow_is_refused_with_every_problem_at_once_and_nothing_runs(api: httpx.Client) -> None:
    spec = {
        "id": "tangled", "name": "Tangled",
        "nodes": [
            {"id": "a", "skill": "react-setup", "depends_on": ["c"], "parameters": {"projectName": "tangled"}},
            {"id": "b", "skill": "no-such-skill", "depends_on": ["a"]},
            {"id": "c", "skill": "rest-api", "depends_on": ["b"], "parameters": {"apiName": "{{a.outputs.port}}"}},
            {"id": "d", "skill": "security-audit", "parameters": {"projectPath": "{{inputs.missing}}"}},
        ],
    }
    answer = api.post("/api/workflows/validate", json={"spec": spec}).json()
    problems = {(p["kind"], p["nodeId"]): p["message"] for p in answer["problems"]}
    assert answer["valid"] is False and answer["plan"] is None
    assert problems[("cycle", "a")] == "cycle: a -> b -> c -> a"  # b waits for a, c for b, a for c
    assert ("unknown_skill", "b") in problems
    assert ("unknown_reference", "d") in problems and "no input 'missing'" in problems[("unknown_reference", "d")]

    before = history_count(api)
    refused = api.post("/api/workflows/execute", json={"spec": spec})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_workflow"
    assert {p["kind"] for p in refused.json()["details"]["problems"]} >= {"cycle", "unknown_skill", "unknown_reference"}
    assert history_count(api) == before


def test_references_outputs_and_shared_folders_are_checked_with_the_plan(api: httpx.Client) -> None:
    spec = {
        "id": "careless", "name": "Careless",
        "parameters": {"name": {"type": "text", "required": True}},
        "nodes": [
            {"id": "web", "skill": "react-setup", "parameters": {"projectName": "{{inputs.name}}", "installDependencies": False}},
            {"id": "box", "skill": "docker-config", "parameters": {"projectPath": "{{web.outputs.outputPath}}", "build": False}},
            {"id": "ci", "skill": "cicd-pipeline", "depends_on": ["web"], "parameters": {"projectPath": "{{web.outputs.nope}}"}},
        ],
    }
    answer = api.post("/api/workflows/validate", json={"spec": spec, "inputs": {"name": f"careless-{uuid.uuid4().hex[:6]}"}}).json()
    kinds = {(p["kind"], p["nodeId"]) for p in answer["problems"]}
    assert ("unknown_reference", "box") in kinds  # web is not upstream of box
    assert ("unknown_output", "ci") in kinds  # react-setup declares no output 'nope'
    assert answer["plan"]["generations"] == [["box", "web"], ["ci"]]


def test_the_full_stack_starter_runs_its_first_nodes_side_by_side_as_subflows(
    api: httpx.Client, prefect_server: str, workspace: Path, tmp_path: Path
) -> None:
    name = f"shop{uuid.uuid4().hex[:6]}"
    # With npm install (from the tests' npm cache) each of the first two nodes takes seconds: long
    # enough that their overlap shows even on a loaded machine, where starting a subflow is slow.
    body = {"workflowId": "full-stack-starter", "inputs": {"name": name, "installDependencies": True}, "level": "expert"}
    plan = api.post("/api/workflows/validate", json=body).json()
    assert plan["valid"], plan["problems"]
    assert plan["plan"]["generations"][0] == ["api", "frontend"]

    events = run_workflow(api, body)
    assert events[-1]["type"] == "complete", events[-1]
    started = {event["nodeId"]: event["executionId"] for event in of_type(events, "node_started")}
    assert {"frontend", "api", "frontend-container", "api-container", "ci", "audit[0]", "audit[1]"} <= set(started)
    assert {e["nodeId"] for e in of_type(events, "step_completed")} >= {"frontend", "api", "ci"}

    frontend, backend = (prefect_flow_run(prefect_server, started[node]) for node in ("frontend", "api"))
    span = {node: (datetime.fromisoformat(run["start_time"]), datetime.fromisoformat(run["end_time"])) for node, run in (("frontend", frontend), ("api", backend))}
    assert span["frontend"][0] < span["api"][1] and span["api"][0] < span["frontend"][1], span  # they overlapped
    workflow_run_id = events[0]["executionId"]
    for child in (frontend, backend):
        parent_task = httpx.get(f"{prefect_server}/task_runs/{child['parent_task_run_id']}").json()
        assert parent_task["flow_run_id"] == workflow_run_id

    outputs = events[-1]["outputs"]
    assert outputs["frontend"]["outputPath"] == f"{name}-web" and outputs["api"]["port"] == 3000
    assert [item["reportPath"] for item in outputs["audit"]] == [f"{name}-web/security-report.md", f"{name}-api/security-report.md"]

    # The same skill alone (its own files; npm's lock file aside) generates the same bytes.
    alone = execute_steps(load_builtin_catalog().get("react-setup"), {"projectName": f"{name}-web", "installDependencies": False}, "full-stack", tmp_path)
    assert files_on_disk(tmp_path / f"{name}-web") <= files_on_disk(workspace / f"{name}-web")
    for path in sorted(alone.files):
        assert (workspace / path).read_bytes() == (tmp_path / path).read_bytes(), path

    record = api.get(f"/api/executions/{workflow_run_id}").json()
    assert record["kind"] == "workflow" and record["workflowId"] == "full-stack-starter"
    assert {node["nodeId"]: node["status"] for node in record["nodes"]}["frontend"] == "completed"
    node_record = api.get(f"/api/executions/{started['frontend']}").json()
    assert (node_record["nodeId"], node_record["workflowExecutionId"]) == ("frontend", workflow_run_id)


def saga_spec(marker: str) -> dict[str, Any]:
    return {
        "id": "saga", "name": "Saga",
        "parameters": {"name": {"type": "text", "required": True}},
        "nodes": [
            {"id": "web", "skill": "react-setup", "parameters": {"projectName": "{{inputs.name}}-web", "installDependencies": False}},
            {"id": "api", "skill": "rest-api", "parameters": {"apiName": "{{inputs.name}}-api", "installDependencies": False}},
            {"id": "box", "skill": "docker-config", "depends_on": ["web"],
             "parameters": {"projectPath": "{{web.outputs.outputPath}}", "build": False}},
            {"id": "gate", "skill": "unless-blocked", "depends_on": ["box", "api"],
             "parameters": {"folder": "{{web.outputs.outputPath}}", "marker": marker}},
        ],
    }


def test_a_late_failure_undoes_every_node_byte_for_byte_and_the_retry_reuses_them(api: httpx.Client, workspace: Path) -> None:
    name, marker = f"saga{uuid.uuid4().hex[:6]}", f"block-{uuid.uuid4().hex[:6]}"
    (workspace / marker).write_text("blocked\n")
    before = tree_fingerprint(workspace)

    events = run_workflow(api, {"spec": saga_spec(marker), "inputs": {"name": name}, "level": "expert"})
    failed = events[-1]
    assert failed["type"] == "error" and failed["failedNode"] == "gate" and failed["rolledBack"] is True, failed
    compensated = [event["nodeId"] for event in of_type(events, "compensated")]
    assert set(compensated) >= {"web", "api", "box"} and compensated.index("box") < compensated.index("web")
    assert tree_fingerprint(workspace) == before  # every path, mode and byte

    (workspace / marker).unlink()
    with api.stream("POST", f"/api/executions/{failed['executionId']}/retry") as response:
        retried = [event for _, event in read_events(response)]
    assert retried[-1]["type"] == "complete", retried[-1]
    reused = {event["nodeId"] for event in of_type(retried, "step_skipped") if "put back" in event["reason"]}
    assert {"web", "api", "box", "gate"} <= reused  # gate's first step too: it completed before the check failed
    assert (workspace / f"{name}-web" / "unblocked.txt").exists() and (workspace / f"{name}-web" / "Dockerfile").exists()


def test_an_approval_node_waits_for_a_person_and_declining_undoes_what_ran(api: httpx.Client, workspace: Path) -> None:
    project = f"gated{uuid.uuid4().hex[:6]}"
    setup = {"skillId": "react-setup", "parameters": {"projectName": project, "installDependencies": False}, "level": "expert"}
    with api.stream("POST", "/api/execute-skill", json=setup) as response:
        assert [event for _, event in read_events(response)][-1]["type"] == "complete"
    before = tree_fingerprint(workspace / project)
    body = {"workflowId": "approved-release", "inputs": {"projectPath": project}, "level": "expert"}

    declined = run_workflow(api, body, answer=False)
    pause = of_type(declined, "awaiting_confirmation")[0]
    assert pause["nodeId"] == "pipeline" and pause["executionId"] == declined[0]["executionId"]
    assert declined[-1]["type"] == "cancelled" and declined[-1]["rolledBack"] is True
    assert tree_fingerprint(workspace / project) == before  # the audit's reports are gone again

    approved = run_workflow(api, body, answer=True)
    assert approved[-1]["type"] == "complete", approved[-1]
    assert (workspace / project / ".github" / "workflows" / "ci.yml").exists()


def test_saved_workflows_become_prefect_deployments(api: httpx.Client, prefect_server: str) -> None:
    workflow_id = f"saved-{uuid.uuid4().hex[:6]}"
    spec = {"id": workflow_id, "name": "Saved", "parameters": {"folder": {"type": "text", "required": True}},
            "nodes": [{"id": "touch", "skill": "touch-file", "parameters": {"folder": "{{inputs.folder}}", "name": "saved"}}]}
    created = api.post("/api/workflows", json={"spec": spec})
    assert created.status_code == 201, created.text
    assert created.json()["deployment"] == f"workflow/{workflow_id}"
    deployment = httpx.get(f"{prefect_server}/deployments/name/workflow/{workflow_id}")
    assert deployment.status_code == 200 and deployment.json()["parameters"] == {"workflow_id": workflow_id}
    assert workflow_id in {w["id"] for w in api.get("/api/workflows").json()["workflows"]}
    assert api.get(f"/api/workflows/{workflow_id}").json()["spec"]["nodes"][0]["skill"] == "touch-file"

    assert api.delete("/api/workflows/full-stack-starter").status_code == 409
    assert api.delete(f"/api/workflows/{workflow_id}").status_code == 204
    assert api.get(f"/api/workflows/{workflow_id}").status_code == 404
    assert httpx.get(f"{prefect_server}/deployments/name/workflow/{workflow_id}").status_code == 404


@pytest.mark.parametrize("body", [{}, {"spec": {"id": "x", "name": "X", "nodes": []}, "workflowId": "y"}])
def test_a_request_naming_no_single_workflow_is_a_clear_422(api: httpx.Client, body: dict[str, Any]) -> None:
    answer = api.post("/api/workflows/validate", json=body)
    assert answer.status_code == 422 and "exactly one of 'spec' and 'workflowId'" in answer.text


def two_touches_with_an_approval_between(workflow_id: str, folder: str) -> dict[str, Any]:
    """A workflow that writes ``first.txt``, then waits for approval before ``second.txt``."""
    return {
        "id": workflow_id, "name": workflow_id.capitalize(),
        "nodes": [
            {"id": "first", "skill": "touch-file", "parameters": {"folder": folder, "name": "first"}},
            {"id": "second", "skill": "touch-file", "depends_on": ["first"], "approval": True,
             "parameters": {"folder": folder, "name": "second"}},
        ],
    }


def test_a_workflow_whose_serving_process_is_killed_ends_crashed_and_every_node_is_undone(
    api: httpx.Client, served_skills: ServingProcess, workspace: Path
) -> None:
    """``kill -9`` of the serving process while the workflow waits at an approval, its first
    node's file written: after the restart the run is Crashed and the workspace as before."""
    folder = f"crashed-{uuid.uuid4().hex[:6]}"
    (workspace / folder).mkdir()
    before = tree_fingerprint(workspace)
    spec = two_touches_with_an_approval_between("killed", folder)
    with api.stream("POST", "/api/workflows/execute", json={"spec": spec, "level": "expert"}) as response:
        events = []
        for _, event in read_events(response):
            events.append(event)
            if event["type"] == "awaiting_confirmation":
                assert (workspace / folder / "first.txt").exists()
                served_skills.kill()
                served_skills.start()
    assert events[-1]["type"] == "error" and events[-1]["rolledBack"] is True, events[-1]
    record = api.get(f"/api/executions/{events[0]['executionId']}").json()
    assert (record["status"], record["stateName"]) == ("rolled_back", "Crashed")
    assert tree_fingerprint(workspace) == before


def test_cancelling_a_workflow_at_its_approval_undoes_the_nodes_that_ran(api: httpx.Client, workspace: Path) -> None:
    folder = f"cancelled-{uuid.uuid4().hex[:6]}"
    (workspace / folder).mkdir()
    before = tree_fingerprint(workspace)
    spec = two_touches_with_an_approval_between("stopped", folder)
    with api.stream("POST", "/api/workflows/execute", json={"spec": spec, "level": "expert"}) as response:
        events = []
        for _, event in read_events(response):
            events.append(event)
            if event["type"] == "awaiting_confirmation":
                assert api.post(f"/api/executions/{event['executionId']}/cancel").status_code == 200
    assert events[-1]["type"] == "cancelled" and events[-1]["rolledBack"] is True, events[-1]
    assert [e["nodeId"] for e in of_type(events, "compensated")] == ["first"]
    assert tree_fingerprint(workspace) == before
    assert api.get(f"/api/executions/{events[0]['executionId']}").json()["stateName"] == "Cancelled"
