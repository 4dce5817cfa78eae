"""Rolling back finished executions through the facade and the rollback deployment."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

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
