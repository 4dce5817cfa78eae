"""``skillworks workflow validate|run|list|show`` through the real CLI against the session's facade: the same
``--json`` contract and exit codes as every command (0 done, 1 the run failed, 2 invalid: nothing started)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.test_cli import skillworks
from tests.test_cli_contract import json_error, json_lines


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def touch_workflow(approval: bool = False, last_skill: str = "touch-file") -> dict[str, Any]:
    """Two small nodes in one existing folder, the second after the first (and, with ``approval``, once approved)."""
    second: dict[str, Any] = {"id": "second", "skill": last_skill, "depends_on": ["first"], "approval": approval,
                              "parameters": {"folder": "{{inputs.folder}}", "name": "two"}}
    if last_skill == "slow-step":  # fails: its second step outlives its 2 s timeout
        second["parameters"] = {"folder": "{{inputs.folder}}-slow", "marker": "{{inputs.folder}}"}
    return {
        "id": unique("cli-touch"), "name": "Two files", "version": "1.0.0", "description": "Two touch-file nodes in a row.",
        "parameters": {"folder": {"type": "text", "required": True, "description": "An existing folder"}},
        "nodes": [{"id": "first", "skill": "touch-file", "parameters": {"folder": "{{inputs.folder}}", "name": "one"}}, second],
    }


def spec_file(folder: Path, spec: dict[str, Any]) -> Path:
    path = folder / f"{spec['id']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_list_and_show_the_built_in_workflows(facade: str) -> None:
    listed = skillworks("workflow", "list", "--api", facade, "--json")
    shown = skillworks("workflow", "show", "full-stack-starter", "--api", facade)

    assert listed.returncode == 0, listed.stderr
    ids = [workflow["id"] for workflow in json_lines(listed.stdout)[0]["workflows"]]
    assert {"full-stack-starter", "approved-release"} <= set(ids)
    assert shown.returncode == 0, shown.stderr
    for expected in ("Full-stack starter", "frontend-container", "react-setup", "for each", "Inputs", "required"):
        assert expected in shown.stdout, expected
    scripted = skillworks("workflow", "show", "full-stack-starter", "--api", facade, "--json")
    assert json_lines(scripted.stdout) == [httpx.get(f"{facade}/api/workflows/full-stack-starter").json()["spec"]]
    unknown = skillworks("workflow", "show", "no-such-workflow", "--api", facade, "--json")
    assert unknown.returncode == 2 and json_error(unknown)["exitCode"] == 2


def test_validate_reports_the_cycle_and_every_other_problem_at_once_and_exits_2(facade: str, tmp_path: Path) -> None:
    spec = {"id": "cyclic", "name": "Cyclic", "version": "1.0.0", "nodes": [
        {"id": "a", "skill": "touch-file", "depends_on": ["c"], "parameters": {"folder": "x", "name": "a"}},
        {"id": "b", "skill": "touch-file", "depends_on": ["a"], "parameters": {"folder": "x", "name": "b"}},
        {"id": "c", "skill": "touch-file", "depends_on": ["b"], "parameters": {"folder": "x", "name": "c"}},
        {"id": "d", "skill": "no-such-skill"},
    ]}
    path = spec_file(tmp_path, spec)

    scripted = skillworks("workflow", "validate", str(path), "--api", facade, "--json")
    human = skillworks("workflow", "validate", str(path), "--api", facade)
    run = skillworks("workflow", "run", str(path), "--api", facade, "--json")

    assert scripted.returncode == 2
    [verdict] = json_lines(scripted.stdout)
    kinds = {problem["kind"] for problem in verdict["problems"]}
    assert {"cycle", "unknown_skill"} <= kinds
    [cycle] = [problem for problem in verdict["problems"] if problem["kind"] == "cycle"]
    assert re.search(r"\b(\w) -> \w -> \w -> \1\b", cycle["message"]), cycle  # the cycle's path, from any of its nodes
    assert human.returncode == 2 and "cycle" in human.stderr and "no-such-skill" in human.stderr
    assert run.returncode == 2
    assert json_error(run)["code"] == "invalid_workflow"


def test_validate_of_a_built_in_workflow_shows_its_plan(facade: str) -> None:
    result = skillworks("workflow", "validate", "full-stack-starter", "-p", f"name={unique('plan')}", "-p", "installDependencies=no",
                        "--api", facade, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    [verdict] = json_lines(result.stdout)
    assert verdict["valid"] is True
    assert sorted(verdict["plan"]["generations"][0]) == ["api", "frontend"]
    human = skillworks("workflow", "validate", "full-stack-starter", "-p", "name=Not Valid", "--api", facade)
    assert human.returncode == 2 and "name" in human.stderr


def test_run_with_yes_approves_the_approval_node_and_prints_only_events(facade: str, workspace: Path, tmp_path: Path) -> None:
    folder = unique("cli-wf")
    (workspace / folder).mkdir()
    path = spec_file(tmp_path, touch_workflow(approval=True))

    result = skillworks("workflow", "run", str(path), "-p", f"folder={folder}", "--level", "expert", "--yes",
                        "--api", facade, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    events = json_lines(result.stdout)
    types = [event["type"] for event in events]
    assert types[0] == "started" and types[-1] == "complete"
    assert [e["nodeId"] for e in events if e["type"] == "node_completed"] == ["first", "second"]
    [approval] = [e for e in events if e["type"] == "awaiting_confirmation"]
    assert approval["nodeId"] == "second"
    assert sorted(p.name for p in (workspace / folder).iterdir()) == ["one.txt", "two.txt"]


def test_a_failed_workflow_exits_1_and_says_which_node_failed(facade: str, workspace: Path, tmp_path: Path) -> None:
    folder = unique("cli-wf-fails")
    (workspace / folder).mkdir()
    path = spec_file(tmp_path, touch_workflow(last_skill="slow-step"))

    result = skillworks("workflow", "run", str(path), "-p", f"folder={folder}", "--level", "expert", "--api", facade, "--json")

    assert result.returncode == 1, result.stdout + result.stderr
    last = json_lines(result.stdout)[-1]
    assert last["type"] == "error" and last["failedNode"] == "second"
    assert list((workspace / folder).iterdir()) == []  # the first node was compensated


@pytest.mark.parametrize("target, code", [("missing.yaml", "file_not_found"), ("broken", "invalid_spec")])
def test_a_spec_file_that_cannot_be_read_exits_2(facade: str, tmp_path: Path, target: str, code: str) -> None:
    (tmp_path / "broken.yaml").write_text("nodes: [unclosed\n", encoding="utf-8")
    path = tmp_path / ("broken.yaml" if target == "broken" else target)

    result = skillworks("workflow", "validate", str(path), "--api", facade, "--json")

    assert result.returncode == 2
    assert json_error(result)["code"] == code


def test_run_for_people_shows_each_node_and_how_the_workflow_ended(facade: str, workspace: Path, tmp_path: Path) -> None:
    folder = unique("cli-wf-human")
    (workspace / folder).mkdir()
    path = spec_file(tmp_path, touch_workflow(approval=True))

    result = skillworks("workflow", "run", str(path), "-p", f"folder={folder}", "--level", "expert", "--yes", "--api", facade)

    assert result.returncode == 0, result.stdout + result.stderr
    for expected in ("Started workflow Two files", "node first (touch-file) started", "first │ ✓ Write File",
                     "node second completed", "Workflow completed", "rollback-"):
        assert expected in result.stdout, expected
