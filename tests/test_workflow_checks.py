"""A workflow's checks and plan, without a server: the same function the API and the flow call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skills.catalog import CatalogSources, load_catalog
from skills.workflows.expressions import UNKNOWN, Condition, Scope, render
from skills.workflows.library import WorkflowLibrary
from skills.workflows.validation import ValidationContext, WorkflowValidation, validate_workflow
from tests.conftest import FIXTURE_SKILLS


def check(spec: dict[str, Any], inputs: dict[str, Any] | None, workspace: Path) -> WorkflowValidation:
    context = ValidationContext(load_catalog(CatalogSources(local_folders=(FIXTURE_SKILLS,))), WorkflowLibrary(workspace), workspace)
    return validate_workflow(spec, inputs or {}, context)


def kinds(checked: WorkflowValidation) -> set[tuple[str, str | None]]:
    return {(problem.kind, problem.node_id) for problem in checked.problems}


def test_a_condition_no_input_can_make_true_is_reported(tmp_path: Path) -> None:
    spec = {
        "id": "never", "name": "Never",
        "parameters": {"styling": {"type": "select", "options": ["Tailwind CSS", "CSS Modules"], "default": "CSS Modules"}},
        "nodes": [{"id": "web", "skill": "react-setup", "when": "inputs.styling == 'Bootstrap'",
                   "parameters": {"projectName": "never", "installDependencies": False}}],
    }
    checked = check(spec, {}, tmp_path)
    assert ("unreachable", "web") in kinds(checked)
    assert checked.plan is not None and checked.plan.nodes["web"].will_run is False


def test_a_sub_workflow_that_includes_itself_is_reported_with_its_path(tmp_path: Path) -> None:
    library = WorkflowLibrary(tmp_path)
    inner = {"id": "inner", "name": "Inner", "nodes": [{"id": "back", "workflow": "outer"}]}
    outer = {"id": "outer", "name": "Outer", "nodes": [{"id": "down", "workflow": "inner"}]}
    for spec in (inner, outer):
        library.save(validate_workflow(spec, {}, ValidationContext(load_catalog(), library, tmp_path)).spec)  # type: ignore[arg-type]
    checked = check(outer, {}, tmp_path)
    messages = [problem.message for problem in checked.problems if problem.kind == "recursion"]
    assert any("outer -> inner -> outer includes itself" in message for message in messages), checked.problems


def test_two_nodes_in_one_folder_that_could_overlap_are_refused_and_ordering_them_fixes_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    nodes = [
        {"id": "a", "skill": "touch-file", "parameters": {"folder": "shared", "name": "a"}},
        {"id": "b", "skill": "touch-file", "parameters": {"folder": "shared", "name": "b"}},
    ]
    assert ("shared_target", "b") in kinds(check({"id": "s", "name": "S", "nodes": nodes}, {}, tmp_path))
    nodes[1]["depends_on"] = ["a"]
    assert check({"id": "s", "name": "S", "nodes": nodes}, {}, tmp_path).valid


def test_a_for_each_node_plans_one_run_per_item_and_its_outputs_feed_the_next(tmp_path: Path) -> None:
    spec = {
        "id": "fan", "name": "Fan",
        "parameters": {"services": {"type": "list", "default": ["orders", "users"]}},
        "nodes": [
            {"id": "svc", "skill": "rest-api", "for_each": "{{inputs.services}}",
             "parameters": {"apiName": "{{item}}", "installDependencies": False}},
            {"id": "box", "skill": "docker-config", "depends_on": ["svc"], "for_each": "{{svc.outputs}}",
             "parameters": {"projectPath": "{{item.outputPath}}", "build": False}},
        ],
    }
    checked = check(spec, {}, tmp_path)
    assert checked.valid, checked.problems
    assert checked.plan is not None and checked.plan.nodes["box"].items == 2
    assert [o["composeFile"] for o in checked.plan.nodes["box"].outputs] == ["orders/docker-compose.yml", "users/docker-compose.yml"]


def test_parameters_are_checked_by_the_target_skill_once_known_values_are_filled_in(tmp_path: Path) -> None:
    spec = {
        "id": "bad", "name": "Bad",
        "nodes": [
            {"id": "web", "skill": "react-setup", "parameters": {"projectName": "Not Valid!", "installDependencies": False}},
            {"id": "box", "skill": "docker-config", "depends_on": ["web"],
             "parameters": {"projectPath": "{{web.outputs.outputPath}}", "appType": "Cobol"}},
        ],
    }
    problems = {(p.node_id, p.field) for p in check(spec, {}, tmp_path).problems}
    assert ("web", "nodes.web.parameters.projectName") in problems
    assert ("box", "nodes.box.parameters.appType") in problems  # checked though projectPath waits for web


def test_conditions_decide_as_soon_as_a_known_value_decides() -> None:
    scope = Scope({"on": True}, {"audit": {"verdict": "fail"}})
    assert Condition.parse("audit.outputs.verdict == 'fail' and inputs.on").evaluate(scope) is True
    assert Condition.parse("later.outputs.x == 1 or inputs.on").evaluate(scope) is True
    assert Condition.parse("later.outputs.x == 1 and inputs.on").evaluate(scope) is UNKNOWN
    assert render({"n": "{{inputs.on}}", "text": "v={{audit.outputs.verdict}}"}, scope) == {"n": True, "text": "v=fail"}
