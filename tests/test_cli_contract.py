"""The CLI's contract with scripts, driven through the real ``skillworks`` command against the session's
real facade: ``--json`` output (stdout only JSON, errors as one JSON line on stderr), and the exit codes
0 (success), 1 (the run or operation failed), 2 (invalid input) and 130 (interrupted, the run cancelled)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port
from tests.sse import read_events
from tests.test_cli import SKILLWORKS, skillworks


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as JSON: fails if anything else was printed."""
    return [json.loads(line) for line in text.splitlines()]


def json_error(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON error line on stderr of a failed ``--json`` command, which printed nothing on stdout."""
    assert result.stdout == "", result.stdout
    [error] = json_lines(result.stderr)
    assert error["exitCode"] == result.returncode
    return error


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_skills_lists_the_catalog_as_a_table_and_as_the_apis_json(facade: str) -> None:
    table = skillworks("skills", "--api", facade)
    scripted = skillworks("skills", "--api", facade, "--json")

    assert table.returncode == 0, table.stderr
    assert "react-setup" in table.stdout and "React Project Setup" in table.stdout and "3-5 minutes" in table.stdout
    assert scripted.returncode == 0, scripted.stderr
    assert json_lines(scripted.stdout) == [httpx.get(f"{facade}/api/skill-metadata").json()]


def test_show_describes_parameters_with_their_validation_and_the_steps(facade: str) -> None:
    rest_api = skillworks("show", "rest-api", "--api", facade)
    bounded = skillworks("show", "crash-points", "--api", facade)

    assert rest_api.returncode == 0, rest_api.stderr
    for expected in ("REST API Design", "apiName", "required", "matches ^[a-z0-9][a-z0-9-]*$", "<= 64 chars",
                     "one of: JWT, OAuth2, API Key, None (recommended: JWT)", "items: object", "Steps", "runs when"):
        assert expected in rest_api.stdout, expected
    assert ">= 1" in bounded.stdout and "<= 20000" in bounded.stdout
    scripted = skillworks("show", "rest-api", "--api", facade, "--json")
    assert json_lines(scripted.stdout) == [httpx.get(f"{facade}/api/skill-metadata", params={"skill": "rest-api"}).json()]


def test_an_unknown_skill_exits_2_with_the_apis_error_as_json(facade: str) -> None:
    shown = skillworks("show", "no-such-skill", "--api", facade, "--json")
    run = skillworks("run", "no-such-skill", "--api", facade, "--json")

    assert (shown.returncode, run.returncode) == (2, 2)
    assert json_error(shown)["code"] == json_error(run)["code"] == "unknown_skill"
    assert "react-setup" in json_error(shown)["suggestions"][0]


def test_invalid_parameters_exit_2_naming_each_field_and_nothing_runs(facade: str, workspace: Path) -> None:
    folder = unique("cli-invalid")
    converted = skillworks("run", "crash-points", "-p", f"folder={folder}", "-p", "marker=m", "-p", "files=many",
                           "--api", facade, "--json")
    validated = skillworks("run", "crash-points", "-p", "folder=Not Valid", "-p", "marker=m", "--api", facade, "--json")
    dry_run = skillworks("run", "crash-points", "-p", "folder=Not Valid", "-p", "marker=m", "--dry-run", "--api", facade, "--json")

    assert (converted.returncode, validated.returncode, dry_run.returncode) == (2, 2, 2)
    assert [e["field"] for e in json_error(converted)["details"]["errors"]] == ["files"]
    assert [e["field"] for e in json_error(validated)["details"]["errors"]] == ["folder"]
    [verdict] = json_lines(dry_run.stdout)  # the dry run's answer is its verdict, valid or not
    assert verdict["valid"] is False and [e["field"] for e in verdict["errors"]] == ["folder"]
    assert not (workspace / folder).exists()


def test_a_usage_error_exits_2() -> None:
    assert skillworks("run", "--json").returncode == 2
    assert skillworks("history", "--limit", "many", "--json").returncode == 2


def test_an_api_nobody_serves_exits_1_with_what_to_do() -> None:
    result = skillworks("skills", "--api", "http://127.0.0.1:9", "--json")

    assert result.returncode == 1
    error = json_error(result)
    assert error["code"] == "facade_unavailable" and "skillworks up" in error["suggestions"][0]


def test_up_refusing_a_public_bind_exits_2_with_a_json_reason() -> None:
    result = skillworks("up", "--host", "0.0.0.0", "--port", "1", "--json", env={"SKILLWORKS_API_TOKEN": ""}, timeout=60)

    assert result.returncode == 2
    assert json_error(result)["code"] == "launch_refused"


def test_up_with_a_marketplace_database_it_cannot_reach_exits_1_saying_so(prefect_server: str, tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1

    result = skillworks(
        "up", "--port", str(free_port()), "--workspace", str(tmp_path), "--json",
        env={"PREFECT_API_URL": prefect_server, "SKILLWORKS_DATABASE_URL": unreachable}, timeout=120,
    )

    assert result.returncode == 1, result.stderr
    error = json_error(result)
    assert error["code"] == "launch_failed"
    assert "marketplace" in error["error"].lower() and error["suggestions"], error


def test_a_run_with_json_prints_only_its_events_and_exits_0(facade: str, workspace: Path) -> None:
    folder = unique("cli-json")
    (workspace / folder).mkdir()

    result = skillworks("run", "touch-file", "-p", f"folder={folder}", "-p", "name=hello", "--level", "expert",
                        "--api", facade, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    events = json_lines(result.stdout)
    assert events[0]["type"] == "started" and events[-1]["type"] == "complete"
    assert "step_completed" in [event["type"] for event in events]
    assert (workspace / folder / "hello.txt").exists()
    token = events[-1]["rollbackToken"]
    history = json_lines(skillworks("history", "--skill", "touch-file", "--api", facade, "--json").stdout)[0]
    assert events[0]["executionId"] in [record["id"] for record in history["executions"]]
    undone = skillworks("rollback", token, "--api", facade, "--json")
    assert undone.returncode == 0, undone.stderr
    assert json_lines(undone.stdout)[0]["deleted"] == [f"{folder}/hello.txt"]
    (workspace / folder).rmdir()


def test_a_failed_run_exits_1_and_its_last_event_says_why(facade: str, workspace: Path) -> None:
    marker = unique("cli-fails")
    result = skillworks("run", "slow-step", "-p", f"folder={marker}", "-p", f"marker={marker}", "--level", "expert",
                        "--api", facade, "--json")

    assert result.returncode == 1, result.stdout + result.stderr
    last = json_lines(result.stdout)[-1]
    assert last["type"] == "error" and last["rolledBack"] is True
    assert not (workspace / marker).exists()


def test_cancel_stops_a_running_execution_and_refuses_one_that_ended(api: httpx.Client, facade: str, workspace: Path) -> None:
    marker = unique("cli-cancel")
    request = {"skillId": "crash-points", "parameters": {"folder": marker, "marker": marker, "files": 1},
               "level": "expert", "persona": "full-stack"}
    with api.stream("POST", "/api/execute-skill", json=request) as response:
        events = read_events(response)
        execution_id = next(events)[1]["executionId"]
        next(event for _, event in events if event["type"] == "step_progress" and event["stepId"] == "run-command")

        cancelled = skillworks("cancel", execution_id, "--wait", "--api", facade, "--json")

    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    last = json_lines(cancelled.stdout)[-1]
    assert last["type"] == "cancelled" and last["rolledBack"] is True
    assert not (workspace / marker).exists()
    again = skillworks("cancel", execution_id, "--api", facade, "--json")
    assert again.returncode == 1 and json_error(again)["code"] == "already_finished"
    unknown = skillworks("cancel", str(uuid.uuid4()), "--api", facade, "--json")
    assert unknown.returncode == 2
    malformed = skillworks("cancel", "not-an-id", "--api", facade)
    assert malformed.returncode == 2 and "execution_id" in malformed.stderr


def test_ctrl_c_cancels_the_run_it_started_undoes_it_and_exits_130(facade: str, workspace: Path) -> None:
    marker = unique("cli-interrupt")
    process = subprocess.Popen(
        [str(SKILLWORKS), "run", "crash-points", "-p", f"folder={marker}", "-p", f"marker={marker}", "-p", "files=3",
         "--level", "expert", "--api", facade, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=os.environ.copy(),
    )
    assert process.stdout is not None
    events = []
    try:
        for line in process.stdout:
            events.append(json.loads(line))
            if events[-1]["type"] == "step_progress" and events[-1]["stepId"] == "run-command":
                break
        assert (workspace / marker).is_dir()
        process.send_signal(signal.SIGINT)
        events += json_lines(process.stdout.read())
        assert process.wait(timeout=120) == 130, process.stderr.read() if process.stderr else ""
    finally:
        process.kill()
    assert events[-1]["type"] == "cancelled" and events[-1]["rolledBack"] is True, events[-4:]
    assert not (workspace / marker).exists()
    record = httpx.get(f"{facade}/api/executions/{events[0]['executionId']}").json()
    assert record["stateName"] == "Cancelled"
