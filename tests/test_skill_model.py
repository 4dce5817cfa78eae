"""What a skill is: SKILL.md parsing, parameter models, validation, conditions and planning."""

from __future__ import annotations

from pathlib import Path

import pytest

from skills.catalog import load_builtin_catalog
from skills.definition import Condition, parse_skill_markdown
from skills.environment import check_environment
from skills.errors import SkillDefinitionError
from skills.parameters import parameter_json_schema, validate_parameters
from skills.planning import plan_skill, preflight

CATALOG = load_builtin_catalog()
DOCUMENTED = {
    "react-setup": ("React Project Setup", "frontend", 9, "3-5 minutes"),
    "docker-config": ("Docker Configuration", "devops", 7, "2-3 minutes"),
    "rest-api": ("REST API Design", "backend", 7, "4-6 minutes"),
    "security-audit": ("Security Audit", "security", 6, "2-3 minutes"),
    "cicd-pipeline": ("CI/CD Pipeline", "cicd", 5, "3-4 minutes"),
}


@pytest.mark.parametrize("skill_id", DOCUMENTED)
def test_builtin_skills_match_the_documented_catalogue(skill_id: str) -> None:
    skill = CATALOG.get(skill_id)
    assert (skill.name, skill.category, len(skill.steps), skill.estimated_time) == DOCUMENTED[skill_id]


def test_front_matter_errors_name_the_file_and_the_field() -> None:
    with pytest.raises(SkillDefinitionError, match=r"SKILL.md: steps: Field required"):
        parse_skill_markdown("---\nid: x\nname: X\ncategory: c\ndescription: d\nestimated_time: 1m\n---\n")
    with pytest.raises(SkillDefinitionError, match="front matter"):
        parse_skill_markdown("no front matter")
    with pytest.raises(SkillDefinitionError, match="unknown parameter 'nope'"):
        parse_skill_markdown(
            "---\nid: x\nname: X\ncategory: c\ndescription: d\nestimated_time: 1m\n"
            "steps: [{id: a, name: A, when: nope}]\n---\n"
        )


@pytest.mark.parametrize(
    ("source", "values", "holds"),
    [
        ("flag", {"flag": True}, True),
        ("not flag", {"flag": True}, False),
        ("styling == Tailwind CSS", {"styling": "Tailwind CSS"}, True),
        ("styling != Tailwind CSS", {"styling": "CSS Modules"}, True),
    ],
)
def test_when_conditions(source: str, values: dict, holds: bool) -> None:
    assert Condition.parse(source).holds(values) is holds


def test_parameter_model_is_strict_and_its_schema_documents_the_form() -> None:
    schema = parameter_json_schema(CATALOG.get("react-setup"))
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["projectName"]
    assert schema["properties"]["styling"]["enum"] == ["Tailwind CSS", "Styled Components", "CSS Modules"]
    assert schema["properties"]["styling"]["recommended"] == "Tailwind CSS"
    assert schema["properties"]["useTypescript"]["default"] is True


def test_validation_fills_defaults_and_converts_nothing() -> None:
    result = validate_parameters(CATALOG.get("react-setup"), {"projectName": "shop"})
    assert result.valid
    assert result.values == {
        "projectName": "shop", "useTypescript": True, "styling": "Tailwind CSS", "testing": True,
        "installDependencies": True,
    }
    assert validate_parameters(CATALOG.get("react-setup"), {"projectName": "shop", "testing": "true"}).issues[0].field == "testing"


def test_validation_rejects_non_objects_and_paths_that_leave_the_workspace() -> None:
    assert validate_parameters(CATALOG.get("react-setup"), ["x"]).issues[0].field == "parameters"
    docker = CATALOG.get("docker-config")
    for path in ("../outside", "/etc", "a/\x00b", "~/x"):
        issues = validate_parameters(docker, {"projectPath": path}).issues
        assert [issue.field for issue in issues] == ["projectPath"], path


def test_a_parameter_whose_condition_fails_is_ignored_with_the_reason() -> None:
    result = validate_parameters(CATALOG.get("docker-config"), {"projectPath": "app", "includeDatabase": False, "database": "MySQL"})
    assert result.valid
    assert "database" not in result.values
    assert result.ignored == {"database": "ignored because includeDatabase is False (needs includeDatabase)"}


def test_preflight_checks_level_persona_and_target(tmp_path: Path) -> None:
    checked = preflight(CATALOG.get("react-setup"), {"projectName": "app"}, "guru", "wizard", tmp_path)
    assert [issue.field for issue in checked.errors] == ["level", "persona"]


def test_environment_check_reports_missing_and_too_old_tools() -> None:
    report = check_environment({"git": ">=1", "no-such-tool-here": "*", "node": ">=999"})
    assert report.errors == [
        "no-such-tool-here is not installed (needs *); install it and retry",
        f"node {report.checks[2].found} is too old or too new: needs >=999; upgrade it and retry",
    ]


def test_dry_run_changes_nothing_and_lists_skipped_steps(tmp_path: Path) -> None:
    checked, plan = plan_skill(CATALOG.get("react-setup"), {"projectName": "app", "testing": False}, "expert", "full-stack", tmp_path)
    assert checked.ok and plan is not None
    assert list(tmp_path.iterdir()) == []
    skipped = [step.name for step in plan.steps if step.status == "skip"]
    assert skipped == ["Setup Testing Framework"]
    assert plan.output_path == "app"


def test_dry_run_of_a_skill_without_step_code_warns_that_execution_would_fail(tmp_path: Path) -> None:
    unimplemented = parse_skill_markdown(
        "---\nid: todo\nname: Todo\ncategory: c\ndescription: d\nestimated_time: 1m\n"
        "steps: [{id: first, name: First}]\n---\n",
        tmp_path,
    )
    checked, plan = plan_skill(unimplemented, {}, "expert", "full-stack", tmp_path)
    assert plan is not None and plan.steps[0].status == "not-implemented"
    assert checked.warnings == ["not implemented yet, so executing this skill fails at: First"]
