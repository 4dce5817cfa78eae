"""Executing skills through the facade: the SSE stream, pauses, failures, history, Prefect."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from pathlib import Path
from typing import Any

import httpx

from service.routes.executions import FolderLocks
from tests.runtime import task_run_names
from tests.sse import read_events

Event = tuple[int, dict[str, Any]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def react_request(name: str, level: str = "expert", **parameters: Any) -> dict[str, Any]:
    return {
        "skillId": "react-setup",
        "parameters": {"projectName": name, "installDependencies": False, **parameters},
        "level": level,
        "persona": "full-stack",
    }


def execute(
    api: httpx.Client, request: dict[str, Any] | None, answers: list[bool] | None = None, path: str = "/api/execute-skill"
) -> list[Event]:
    """Run a skill and collect its whole stream, answering pauses from ``answers`` in order."""
    pending = list(answers or [])
    events: list[Event] = []
    with api.stream("POST", path, json=request) as response:
        assert response.status_code == 200, response.read()
        for event in read_events(response):
            events.append(event)
            if event[1]["type"] == "awaiting_confirmation":
                execution_id = events[0][1]["executionId"]
                answer = api.post(f"/api/executions/{execution_id}/confirm", json={"proceed": pending.pop(0)})
                assert answer.status_code == 200, answer.text
    return events


def types(events: list[Event]) -> list[str]:
    return [data["type"] for _, data in events]


def test_react_setup_streams_every_step_in_order_and_creates_the_planned_files(
    api: httpx.Client, workspace: Path
) -> None:
    name = unique("streamed")
    request = react_request(name, styling="CSS Modules")
    planned = api.post("/api/validate-skill", json=request).json()["dryRunPreview"]

    events = execute(api, request)

    started, complete = events[0][1], events[-1][1]
    assert started["type"] == "started"
    assert started["skillName"] == "React Project Setup"
    assert started["totalSteps"] == 9
    assert started["prefectUrl"].endswith(f"/runs/flow-run/{started['executionId']}")
    assert complete["type"] == "complete", events[-1]
    assert [event_id for event_id, _ in events] == list(range(len(events)))
    step_ids = [s["id"] for s in planned["steps"] if s["status"] == "run"]
    assert [d["stepId"] for _, d in events if d["type"] == "step_completed"] == step_ids
    progress = [d["progress"] for _, d in events if "progress" in d]
    assert progress == sorted(progress) and progress[-1] == 100
    assert complete["filesCreated"] == len(planned["files"])
    assert complete["rollbackToken"] == f"rollback-{started['executionId']}"
    assert Path(complete["outputPath"]) == workspace / name
    created = {p.relative_to(workspace).as_posix() for p in (workspace / name).rglob("*") if p.is_file() and ".git" not in p.parts}
    assert created == set(planned["files"])


def test_each_executed_step_is_a_prefect_task_run_named_after_the_step(api: httpx.Client) -> None:
    events = execute(api, react_request(unique("tasks"), testing=False))
    execution_id = events[0][1]["executionId"]
    ran = [d["stepName"] for _, d in events if d["type"] == "step_completed"]

    assert task_run_names(execution_id, len(ran)) == ran
    assert "Setup Testing Framework" not in ran
    skipped = [d for _, d in events if d["type"] == "step_skipped"]
    assert skipped == [{"type": "step_skipped", "stepIndex": 8, "stepId": "setup-testing", "stepName": "Setup Testing Framework", "reason": "skipped because testing is False (needs testing)"}]


def test_history_and_execution_state_come_from_prefect(api: httpx.Client) -> None:
    events = execute(api, react_request(unique("history")))
    execution_id = events[0][1]["executionId"]

    record = api.get(f"/api/executions/{execution_id}").json()
    assert record["status"] == "completed"
    assert record["skillId"] == "react-setup"
    assert record["level"] == "expert"
    history = api.get("/api/execution-history", params={"skillId": "react-setup", "status": "completed"}).json()
    assert execution_id in [e["id"] for e in history["executions"]]
    assert history["count"] >= 1
    assert api.get(f"/api/executions/{uuid.uuid4()}").status_code == 404
    assert api.get("/api/executions/not-a-uuid").status_code == 422


def test_reattaching_with_last_event_id_replays_only_later_events(api: httpx.Client) -> None:
    events = execute(api, react_request(unique("reattach")))
    execution_id = events[0][1]["executionId"]

    with api.stream("GET", f"/api/executions/{execution_id}/events", headers={"Last-Event-ID": "3"}) as response:
        replayed = list(read_events(response))

    assert replayed == events[4:]


def test_beginner_level_pauses_before_every_step_until_confirmed(api: httpx.Client, workspace: Path) -> None:
    name = unique("beginner")
    events = execute(api, react_request(name, level="beginner", testing=False, useTypescript=False), answers=[True] * 7)

    pauses = [d["stepName"] for _, d in events if d["type"] == "awaiting_confirmation"]
    assert len(pauses) == 7  # nine steps, two skipped
    assert types(events)[-1] == "complete"
    assert (workspace / name / "package.json").is_file()


def test_declining_a_pause_cancels_the_run_and_undoes_its_changes(api: httpx.Client, workspace: Path) -> None:
    name = unique("declined")
    events = execute(api, react_request(name, level="beginner"), answers=[True, True, True, True, False])

    assert types(events)[-1] == "cancelled"
    assert events[-1][1]["rolledBack"] is True
    assert not (workspace / name).exists()


def test_a_failing_critical_step_fails_the_run_and_rolls_back(api: httpx.Client, workspace: Path) -> None:
    """git refuses to initialise a repository where ``.git`` is a plain file (a real failure)."""
    name = unique("failing")
    request = react_request(name, level="beginner", testing=False, useTypescript=False)
    events: list[Event] = []
    with api.stream("POST", "/api/execute-skill", json=request) as response:
        for event in read_events(response):
            events.append(event)
            if event[1]["type"] == "awaiting_confirmation":
                if event[1]["stepName"] == "Initialize Git Repository":
                    (workspace / name / ".git").write_text("not a repository")
                api.post(f"/api/executions/{events[0][1]['executionId']}/confirm", json={"proceed": True})

    failed = [d for _, d in events if d["type"] == "step_failed"]
    assert failed and failed[-1]["stepId"] == "initialize-git" and failed[-1]["critical"] is True
    assert events[-1][1]["type"] == "error"
    assert events[-1][1]["rolledBack"] is True
    # Everything the run created is gone; the file planted by hand is not the run's to delete.
    assert [p.name for p in (workspace / name).iterdir()] == [".git"]
    (workspace / name / ".git").unlink()
    (workspace / name).rmdir()
    record = api.get(f"/api/executions/{events[0][1]['executionId']}").json()
    assert (record["status"], record["stateName"]) == ("rolled_back", "Failed")


def test_a_second_execution_on_a_busy_folder_is_refused_with_the_running_ones_id(api: httpx.Client, workspace: Path) -> None:
    name = unique("busy")
    with api.stream("POST", "/api/execute-skill", json=react_request(name, level="beginner")) as first:
        events = read_events(first)
        started = next(events)[1]
        second = api.post("/api/execute-skill", json=react_request(name))
        assert second.status_code == 409
        assert second.json()["code"] == "target_busy"
        assert second.json()["details"]["executionId"] == started["executionId"]
        api.post(f"/api/executions/{started['executionId']}/cancel")
        assert [data["type"] for _, data in events][-1] == "cancelled"


def test_of_two_executions_asked_for_one_folder_at_the_same_moment_exactly_one_starts(api: httpx.Client) -> None:
    name = unique("race")

    def post(_: int) -> httpx.Response:
        # Beginner: the run that starts pauses before its first step, so it is still running.
        return api.send(api.build_request("POST", "/api/execute-skill", json=react_request(name, level="beginner")), stream=True)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, range(2)))
    try:
        started = next(answer for answer in answers if answer.status_code == 200)
        refused = next(answer for answer in answers if answer.status_code != 200)
        refused.read()
        assert refused.status_code == 409 and refused.json()["code"] == "target_busy"
        events = read_events(started)
        execution_id = next(events)[1]["executionId"]
        assert refused.json()["details"]["executionId"] == execution_id
        api.post(f"/api/executions/{execution_id}/cancel")
        assert types(list(events))[-1] == "cancelled"
    finally:
        for answer in answers:
            answer.close()


async def test_starts_for_different_folders_do_not_wait_for_each_other() -> None:
    locks = FolderLocks()
    async with locks.holding("one"):
        async with asyncio.timeout(1), locks.holding("another"):
            pass


async def test_starts_for_one_folder_take_turns_and_leave_no_lock_behind() -> None:
    locks, order = FolderLocks(), []

    async def start(name: str) -> None:
        async with locks.holding("same"):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(start("first"), start("second"))
    assert order == ["first in", "first out", "second in", "second out"]
    assert len(locks) == 0


def test_executions_on_different_folders_run_side_by_side(api: httpx.Client, workspace: Path) -> None:
    names = [unique("parallel"), unique("parallel")]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        streams = list(pool.map(lambda name: execute(api, react_request(name)), names))
    assert [events[-1][1]["type"] for events in streams] == ["complete", "complete"]
    assert all((workspace / name / "package.json").is_file() for name in names)
