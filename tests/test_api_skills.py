"""The documented skill-metadata and validate-skill endpoints, against the real facade."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

SKILLS = {"react-setup": 9, "docker-config": 7, "rest-api": 7, "security-audit": 6, "cicd-pipeline": 5}


def test_skill_metadata_lists_the_five_documented_skills_with_their_steps(api: httpx.Client) -> None:
    body = api.get("/api/skill-metadata").json()
    documented = {s["id"]: s["totalSteps"] for s in body["skills"] if s["category"] != "testing"}  # not the fixtures
    assert documented == SKILLS
    assert body["count"] == len(body["skills"])
    react = next(s for s in body["skills"] if s["id"] == "react-setup")
    assert react["name"] == "React Project Setup"
    assert react["category"] == "frontend"
    assert react["estimatedTime"] == "3-5 minutes"
    assert react["parameters"]["styling"]["options"] == ["Tailwind CSS", "Styled Components", "CSS Modules"]
    assert react["parametersSchema"]["properties"]["projectName"]["pattern"] == "^[a-z0-9][a-z0-9-]*$"
    assert [s["critical"] for s in react["steps"]] == [True, True, True, True, False, False, False, False, True]


def test_skill_metadata_for_one_skill_and_404_for_unknown(api: httpx.Client) -> None:
    assert api.get("/api/skill-metadata", params={"skill": "docker-config"}).json()["name"] == "Docker Configuration"
    missing = api.get("/api/skill-metadata", params={"skill": "nope"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown_skill"
    assert "react-setup" in missing.json()["details"]["suggestions"][0]


def test_validate_reports_each_bad_field_with_reason_and_hint(api: httpx.Client) -> None:
    body = api.post("/api/validate-skill", json={
        "skillId": "react-setup",
        "parameters": {"projectName": "My App", "styling": "Bootstrap", "testing": "yes", "colour": "red"},
        "level": "guru",
    }).json()
    assert body["valid"] is False
    assert body["dryRunPreview"] is None
    by_field = {e["field"]: e for e in body["errors"]}
    assert set(by_field) == {"projectName", "styling", "testing", "colour", "level"}
    assert "Tailwind CSS" in by_field["styling"]["hint"]
    assert "lowercase" in by_field["projectName"]["hint"]


def test_validate_requires_required_parameters(api: httpx.Client) -> None:
    body = api.post("/api/validate-skill", json={"skillId": "react-setup", "parameters": {}}).json()
    assert body["errors"] == [{"field": "projectName", "reason": "is required", "hint": "Project name (lowercase, hyphens allowed)"}]


def test_dry_run_lists_steps_files_commands_and_persona_changes_and_changes_nothing(
    api: httpx.Client, workspace: Path
) -> None:
    before = sorted(workspace.rglob("*"))
    body = api.post("/api/validate-skill", json={
        "skillId": "react-setup",
        "parameters": {"projectName": "dry-run-app", "useTypescript": False, "testing": False},
        "level": "expert", "persona": "security",
    }).json()
    assert body["valid"] is True, body
    preview = body["dryRunPreview"]
    statuses = {s["id"]: s["status"] for s in preview["steps"]}
    assert statuses["configure-typescript"] == "skip"
    assert statuses["setup-testing"] == "skip"
    assert "dry-run-app/package.json" in preview["files"]
    assert preview["estimatedOutputFiles"] == len(preview["files"])
    assert any(command.startswith("npm install") for command in preview["commands"])
    assert preview["personaChanges"], "the security persona changes what is generated"
    assert preview["estimatedTotalTime"] == "3-5 minutes"
    assert sorted(workspace.rglob("*")) == before


def test_dry_run_says_which_parameters_were_ignored_and_why(api: httpx.Client) -> None:
    body = api.post("/api/validate-skill", json={
        "skillId": "docker-config",
        "parameters": {"projectPath": "no-such-folder", "includeDatabase": False, "database": "MySQL"},
    }).json()
    assert body["errors"][0]["field"] == "projectPath"
    assert "does not exist" in body["errors"][0]["reason"]


def test_an_existing_non_empty_target_folder_is_a_validation_error(api: httpx.Client, workspace: Path) -> None:
    (workspace / "taken").mkdir()
    (workspace / "taken" / "keep.txt").write_text("mine")
    body = api.post("/api/validate-skill", json={"skillId": "react-setup", "parameters": {"projectName": "taken"}}).json()
    assert body["valid"] is False
    assert body["errors"][0]["field"] == "projectName"
    assert "already exists" in body["errors"][0]["reason"]
    assert (workspace / "taken" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"skillId": "nope", "parameters": {}}', 404, "unknown_skill"),
        (b'{"parameters": {}}', 422, "invalid_request"),
        (b'{"skillId": "react-setup", "parameters": {"projectName": "UPPER"}}', 422, "invalid_parameters"),
        (b'{"skillId": "react-setup", "parameters": {"projectName": "' + b"a" * 70000 + b'"}}', 413, "body_too_large"),
    ],
)
def test_execute_refuses_bad_requests_with_documented_json_errors_and_starts_nothing(
    api: httpx.Client, content: bytes, status: int, code: str
) -> None:
    before = api.get("/api/execution-history").json()["count"]
    response = api.post("/api/execute-skill", content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["error"]
    assert api.get("/api/execution-history").json()["count"] == before
