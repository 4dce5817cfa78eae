"""Rolling back finished executions through the facade and the rollback deployment."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from tests.sse import read_events
from tests.test_execution_stream import execute, react_request, unique
from tests.tree import tree_fingerprint


def run_react_setup(api: httpx.Client) -> tuple[str, dict]:
    name = unique("rollback")
    complete = execute(api, react_request(name))[-1][1]
    assert complete["type"] == "complete", complete
    return name, complete


def test_rollback_restores_the_workspace_exactly_and_a_second_rollback_is_a_no_op(
    api: httpx.Client, workspace: Path
) -> None:
    before = tree_fingerprint(workspace)
    name, complete = run_react_setup(api)
    assert tree_fingerprint(workspace) != before

    first = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"]})
    assert first.status_code == 200, first.text
    assert first.json()["alreadyRolledBack"] is False
    assert f"{name}/package.json" in first.json()["deleted"]
    assert tree_fingerprint(workspace) == before

    second = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"]}).json()
    assert second["alreadyRolledBack"] is True
    assert tree_fingerprint(workspace) == before

    record = api.get(f"/api/executions/{complete['executionId']}").json()
    assert record["status"] == "rolled_back"
    assert record["rolledBackAt"] == first.json()["rolledBackAt"]


def test_rollback_keeps_files_edited_since_unless_forced(api: httpx.Client, workspace: Path) -> None:
    before = tree_fingerprint(workspace)
    name, complete = run_react_setup(api)
    edited = workspace / name / "README.md"
    edited.write_text("my notes\n")

    kept = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"]}).json()
    assert kept["conflicts"] == [f"{name}/README.md", name]
    assert edited.read_text() == "my notes\n"

    forced = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"], "force": True}).json()
    assert forced["conflicts"] == []
    assert tree_fingerprint(workspace) == before


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        ("not-a-token", 422, "invalid_rollback_token"),
        (f"rollback-{uuid.uuid4()}", 404, "unknown_execution"),
    ],
)
def test_rollback_refuses_malformed_and_unknown_tokens(api: httpx.Client, token: str, status: int, code: str) -> None:
    response = api.post("/api/rollback", json={"rollbackToken": token})
    assert response.status_code == status
    assert response.json()["code"] == code


def mirror_then_swap(project: Path, outside: Path) -> None:
    """Copy the run's project beside the workspace (same names, same bytes: hashes match), add what
    the attacker wants destroyed, and swap the project folder for a symlink to that copy."""
    shutil.copytree(project, outside, symlinks=True, dirs_exist_ok=True)
    (outside / "src" / "precious.txt").write_text("years of work\n")
    (outside / ".git-own").mkdir()
    (outside / ".git-own" / "HEAD").write_text("ref: refs/heads/main\n")
    os.rename(project, project.with_name(project.name + ".moved"))
    project.symlink_to(outside, target_is_directory=True)


@pytest.mark.parametrize("force", [False, True])
def test_rollback_through_the_api_never_follows_a_swapped_symlink(
    api: httpx.Client, workspace: Path, tmp_path: Path, force: bool
) -> None:
    name, complete = run_react_setup(api)
    outside = tmp_path / "outside"
    mirror_then_swap(workspace / name, outside)
    before = tree_fingerprint(outside)

    response = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"], "force": force})

    assert response.status_code == 200, response.text
    assert tree_fingerprint(outside) == before
    assert f"{name}/package.json" in response.json()["conflicts"]
    shutil.rmtree(workspace / f"{name}.moved")
    (workspace / name).unlink(missing_ok=True)


def test_a_cancelled_run_is_undone_by_recovery_with_the_same_confinement(
    api: httpx.Client, workspace: Path, tmp_path: Path
) -> None:
    name = unique("cancelled")
    outside = tmp_path / "outside"
    with api.stream("POST", "/api/execute-skill", json=react_request(name, level="beginner")) as response:
        events = read_events(response)
        execution_id = next(events)[1]["executionId"]
        pauses = 0
        for _, data in events:
            if data["type"] == "awaiting_confirmation":
                pauses += 1
                if pauses == 4:  # three steps done: the project has files
                    mirror_then_swap(workspace / name, outside)
                    before = tree_fingerprint(outside)
                    assert api.post(f"/api/executions/{execution_id}/cancel").status_code == 200
                else:
                    api.post(f"/api/executions/{execution_id}/confirm", json={"proceed": True})
            last = data

    assert last["type"] == "cancelled", last
    assert last["rolledBack"] is False and f"{name}/index.html" in last["conflicts"], last
    assert tree_fingerprint(outside) == before
    shutil.rmtree(workspace / f"{name}.moved")
    (workspace / name).unlink()
