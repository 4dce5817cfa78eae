"""Every built-in skill runs for real through the API, and its rollback restores the workspace.

The runs are the cheapest real ones: no package installs, no image build (those are tested
per skill). For a skill that commits to an existing repository, the tree is compared
without ``.git/`` internals (git keeps the objects of an undone commit), and the branch must
point at the same commit again.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_execution_stream import execute, unique
from tests.tree import tree_fingerprint


def node_project(folder: Path) -> None:
    folder.mkdir(parents=True)
    scripts = {"lint": "node --check index.js", "test": "node index.js", "build": "node index.js"}
    (folder / "package.json").write_text(json.dumps({"name": folder.name, "version": "1.0.0", "main": "index.js", "scripts": scripts}))
    (folder / "package-lock.json").write_text(json.dumps({"name": folder.name, "lockfileVersion": 3, "packages": {}}))
    (folder / "index.js").write_text("require('http').createServer((q, s) => s.end('ok')).listen(3000);\n")


def git_repository(folder: Path) -> None:
    node_project(folder)
    identity = ["-c", "user.name=test", "-c", "user.email=test@localhost"]
    for argv in (["init", "--quiet", "--initial-branch=main"], ["add", "-A"], [*identity, "commit", "--quiet", "-m", "start"]):
        subprocess.run(["git", *argv], cwd=folder, check=True)


def head_of(folder: Path) -> str | None:
    if not (folder / ".git").exists():
        return None
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True).stdout.strip()


# skill id -> (prepare the workspace, parameters for a folder name)
CASES: dict[str, tuple[Callable[[Path], None] | None, Callable[[str], dict[str, Any]]]] = {
    "react-setup": (None, lambda name: {"projectName": name, "installDependencies": False}),
    "rest-api": (None, lambda name: {"apiName": name, "installDependencies": False}),
    "docker-config": (node_project, lambda name: {"projectPath": name, "build": False, "includeRedis": True}),
    "security-audit": (node_project, lambda name: {"projectPath": name, "checkPermissions": True}),
    "cicd-pipeline": (git_repository, lambda name: {"projectPath": name, "platform": "GitLab CI", "autoDeployStaging": True}),
}


def without_git_internals(fingerprint: dict[str, str]) -> dict[str, str]:
    return {path: entry for path, entry in fingerprint.items() if "/.git/" not in f"/{path}"}


@pytest.mark.parametrize("skill_id", CASES)
def test_skill_runs_through_the_api_and_rolls_back_to_an_identical_workspace(
    api: httpx.Client, workspace: Path, skill_id: str
) -> None:
    prepare, parameters = CASES[skill_id]
    name = unique(skill_id)
    if prepare is not None:
        prepare(workspace / name)
    before, head_before = tree_fingerprint(workspace), head_of(workspace / name)
    request = {"skillId": skill_id, "parameters": parameters(name), "level": "expert", "persona": "security"}

    events = execute(api, request)

    assert events[-1][1]["type"] == "complete", events[-1]
    assert events[-1][1]["filesCreated"] >= 1
    rollback = api.post("/api/rollback", json={"rollbackToken": events[-1][1]["rollbackToken"]})
    assert rollback.status_code == 200, rollback.text
    assert rollback.json()["conflicts"] == []
    assert without_git_internals(tree_fingerprint(workspace)) == without_git_internals(before)
    assert head_of(workspace / name) == head_before
