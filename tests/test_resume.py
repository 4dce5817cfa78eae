"""Retrying a failed execution resumes at the failed step and reuses what completed."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.runtime import task_run_names
from tests.sse import read_events
from tests.test_execution_stream import execute, react_request, unique


def fail_at_git_step(api: httpx.Client, workspace: Path, name: str) -> str:
    """Run react-setup until git refuses to initialise (``.git`` is a plain file): a real failure."""
    request = react_request(name, level="beginner", testing=False)
    execution_id = ""
    with api.stream("POST", "/api/execute-skill", json=request) as response:
        for _, data in read_events(response):
            execution_id = execution_id or data["executionId"]
            if data["type"] == "awaiting_confirmation":
                if data["stepName"] == "Initialize Git Repository":
                    (workspace / name / ".git").write_text("not a repository")
                api.post(f"/api/executions/{execution_id}/confirm", json={"proceed": True})
            last = data
    assert last["type"] == "error" and last["rolledBack"] is True, last
    # The rollback removed all the run made and kept the planted file; the user removes it, fixing the cause.
    assert [p.name for p in (workspace / name).iterdir()] == [".git"]
    (workspace / name / ".git").unlink()
    return execution_id


def test_retry_runs_only_the_failed_step_and_ends_like_an_uninterrupted_run(api: httpx.Client, workspace: Path) -> None:
    name = unique("resumed")
    planned = api.post("/api/validate-skill", json=react_request(name, testing=False)).json()["dryRunPreview"]
    failed_id = fail_at_git_step(api, workspace, name)
    assert list((workspace / name).iterdir()) == []

    events = execute(api, None, answers=[True], path=f"/api/executions/{failed_id}/retry")

    assert events[-1][1]["type"] == "complete", events[-1]
    reused = [d["stepId"] for _, d in events if d["type"] == "step_skipped" and "done by execution" in d["reason"]]
    assert reused == [s["id"] for s in planned["steps"] if s["status"] == "run"][:-1]
    assert task_run_names(events[0][1]["executionId"], 1) == ["Initialize Git Repository"]
    on_disk = {p.relative_to(workspace).as_posix() for p in (workspace / name).rglob("*") if p.is_file() and ".git" not in p.parts}
    assert on_disk == set(planned["files"])


def test_only_a_failed_execution_can_be_retried(api: httpx.Client) -> None:
    completed = execute(api, react_request(unique("done")))
    response = api.post(f"/api/executions/{completed[0][1]['executionId']}/retry")
    assert response.status_code == 409
    assert response.json()["code"] == "not_failed"
