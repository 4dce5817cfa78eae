"""One verdict: execute-skill refuses (422, nothing started) exactly when validate-skill says invalid.

Hypothesis generates requests for every built-in skill from its own parameter specs — good
values mixed with hostile ones (over-long names and paths, ``~user`` for a user who does
not exist, traversal, NUL bytes, wrong types, unknown fields) — and checks both endpoints
agree, and that no request is answered with a 500. A request found valid is executed at
the beginner level and declined at its first pause, so it changes nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skills.catalog import load_builtin_catalog
from skills.definition import ParameterSpec, SkillDefinition
from tests.sse import read_events

HOSTILE_TEXT = st.sampled_from([
    "", " ", "x" * 300, "y" * 5000, "~nonexistentuser/x", "~/x", "../escape", "/etc", "a/../../b",
    "bad\x00name", "swap-a/../../etc", ".skillworks/journal", "a" * 255 + "/b", "ünïcødé", "%2e%2e",
])
JUNK = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2), st.booleans())


PROJECT = "verdict-project"  # an existing project, for the skills that work on one


def fresh_name() -> st.SearchStrategy[str]:
    return st.builds(lambda: f"verdict-{uuid.uuid4().hex[:8]}")


def good_value(name: str, spec: ParameterSpec) -> st.SearchStrategy[Any]:
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "select":
        return st.sampled_from(spec.options or [])
    if spec.type == "number":
        return st.integers(min_value=int(spec.minimum or 0), max_value=int(spec.maximum or 100))
    if spec.type == "list":
        return st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=10), max_size=3) if spec.items == "text" else st.just([])
    return st.just(PROJECT) if name == "projectPath" else fresh_name()


def any_value(name: str, spec: ParameterSpec) -> st.SearchStrategy[Any]:
    bad = HOSTILE_TEXT if spec.type in ("text", "path") else st.one_of(HOSTILE_TEXT, JUNK)
    return st.one_of(good_value(name, spec), bad, JUNK)


@st.composite
def skill_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Most requests are made of good values only; the others may get anything wrong."""
    skill: SkillDefinition = draw(st.sampled_from(load_builtin_catalog().all()))
    hostile = draw(st.integers(0, 4)) < 2
    value = any_value if hostile else good_value
    parameters = {
        name: draw(value(name, spec)) for name, spec in skill.parameters.items() if spec.required or draw(st.booleans())
    }
    if "installDependencies" in parameters:
        parameters["installDependencies"] = False  # the verdict does not depend on it; an npm install would
    if hostile and draw(st.booleans()):
        parameters[draw(st.sampled_from(["unknown", "", "x" * 300]))] = draw(JUNK)
    levels = ["beginner", "beginner", "expert"] + (["master", ""] if hostile else [])
    personas = ["full-stack", "security"] + (["nobody"] if hostile else [])
    return {
        "skillId": skill.id,
        "parameters": parameters,
        "level": draw(st.sampled_from(levels)),
        "persona": draw(st.sampled_from(personas)),
    }


@pytest.fixture(scope="module", autouse=True)
def existing_project(workspace: Path) -> None:
    project = workspace / PROJECT
    project.mkdir(exist_ok=True)
    (project / "package.json").write_text('{"name": "verdict-project", "version": "1.0.0", "scripts": {"start": "node index.js", "test": "node index.js", "lint": "node index.js"}}\n')
    (project / "index.js").write_text("console.log('hi')\n")


def runs_started(api: httpx.Client) -> int:
    return api.get("/api/execution-history", params={"limit": 1}).json()["count"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(request=skill_requests())
def test_validate_and_execute_give_one_verdict_and_never_a_500(api: httpx.Client, request: dict[str, Any]) -> None:
    verdict = api.post("/api/validate-skill", json=request)
    assert verdict.status_code == 200, verdict.text
    event(f"{request['skillId']}: {'valid' if verdict.json()['valid'] else 'invalid'}")
    before = runs_started(api)

    with api.stream("POST", "/api/execute-skill", json=request) as response:
        if not verdict.json()["valid"]:
            assert response.status_code == 422, response.read()
            assert runs_started(api) == before, "nothing may start for an invalid request"
            return
        assert response.status_code == 200, response.read()
        events = [event for _, event in read_events_declining_pauses(api, response)]

    assert events[-1]["type"] in ("cancelled", "complete", "error"), events[-1]
    if events[-1]["type"] == "complete":  # leave the shared workspace as it was
        assert api.post("/api/rollback", json={"rollbackToken": events[-1]["rollbackToken"]}).status_code == 200


def read_events_declining_pauses(api: httpx.Client, response: httpx.Response):  # type: ignore[no-untyped-def]
    execution_id = ""
    for event_id, data in read_events(response):
        execution_id = execution_id or data["executionId"]
        if data["type"] == "awaiting_confirmation":
            declined = api.post(f"/api/executions/{execution_id}/confirm", json={"proceed": False})
            assert declined.status_code == 200, declined.text
        yield event_id, data
