"""``skillworks up`` on ports of its own: the whole stack starts, runs a skill, and the Prefect UI
it starts shows that run — on the port it was given, not Prefect's default 4200."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from skills.process_guard import descendants
from tests.browser import needs_chromium
from tests.conftest import SESSION_DIR, free_port
from tests.sse import read_events
from tests.test_cli import SKILLWORKS
from tests.test_execution_stream import react_request

pytestmark = needs_chromium


class Stack:
    def __init__(self, api: str, prefect_ui: str, process: subprocess.Popen[bytes], stdout: Path) -> None:
        self.api, self.prefect_ui, self.process, self.stdout = api, prefect_ui, process, stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A fresh ``skillworks up``: its own Prefect home, workspace and ports; no server named to it."""
    home = tmp_path_factory.mktemp("up")
    api_port, prefect_port = free_port(), free_port()
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("PREFECT_API_URL", "PREFECT_UI_URL", "SKILLWORKS_SKILL_FOLDERS"))
    }
    environment.update(PREFECT_HOME=str(home / "prefect"), SKILLWORKS_HOME=str(home / "skillworks"))
    log = (SESSION_DIR / "up.log").open("ab")
    stdout = home / "up.json"
    process = subprocess.Popen(
        [str(SKILLWORKS), "up", "--port", str(api_port), "--prefect-port", str(prefect_port),
         "--workspace", str(home / "workspace"), "--json"],
        env=environment, stdout=stdout.open("wb"), stderr=log, start_new_session=True,
    )
    api = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 180
    while not _answers(f"{api}/api/skill-metadata"):
        assert process.poll() is None, (SESSION_DIR / "up.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "skillworks up did not come up"
        time.sleep(0.5)
    yield Stack(api, f"http://127.0.0.1:{prefect_port}", process, stdout)
    started = descendants(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert [pid for pid in started if Path(f"/proc/{pid}").exists()] == [], "Ctrl-C stops everything it started"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_with_json_announces_its_addresses_on_stdout_once_everything_answers(stack: Stack) -> None:
    deadline = time.monotonic() + 10  # the line is written just after the API first answers
    while not stack.stdout.read_text():
        assert time.monotonic() < deadline, "no announcement on stdout"
        time.sleep(0.1)

    [announcement] = [json.loads(line) for line in stack.stdout.read_text().splitlines()]

    assert announcement == {
        "status": "up", "dashboard": f"{stack.api}/", "api": f"{stack.api}/api", "prefectUi": stack.prefect_ui,
        "workspace": str(stack.stdout.parent / "workspace"),
    }


def test_the_prefect_ui_talks_to_the_server_on_the_port_it_was_given(stack: Stack) -> None:
    settings = httpx.get(f"{stack.prefect_ui}/ui-settings", timeout=10).json()
    assert settings["api_url"] == f"{stack.prefect_ui}/api"


def test_the_run_page_in_the_prefect_ui_shows_the_executions_task_runs(stack: Stack, browser: Browser) -> None:
    with httpx.Client(base_url=stack.api, timeout=httpx.Timeout(30, read=300)) as api:
        with api.stream("POST", "/api/execute-skill", json=react_request(f"ui-{uuid.uuid4().hex[:8]}")) as response:
            events = [event for _, event in read_events(response)]
    assert events[-1]["type"] == "complete", events[-1]
    started = events[0]
    assert started["prefectUrl"].startswith(stack.prefect_ui)

    page = browser.new_page()
    page.goto(started["prefectUrl"])
    expect(page.get_by_text("Create Project Directory").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Can't connect to Server API")).to_have_count(0)
    page.screenshot(path=str(SESSION_DIR / "prefect-ui-run.png"))
    page.close()


def test_a_serving_process_that_dies_mid_run_is_started_again_and_the_run_undone(stack: Stack) -> None:
    """Runs execute inside the serving process: one that takes it down (here: SIGKILL while the
    run waits at a pause, its project folder written) must not take down the stack."""
    with httpx.Client(base_url=stack.api, timeout=httpx.Timeout(30, read=300)) as api:
        request = react_request(f"dies-{uuid.uuid4().hex[:8]}", level="beginner")
        with api.stream("POST", "/api/execute-skill", json=request) as response:
            events = read_events(response)
            execution_id = next(events)[1]["executionId"]
            pauses = 0
            for _, event in events:
                if event["type"] == "awaiting_confirmation":
                    pauses += 1  # before: validate, check environment, create the folder, install
                    if pauses < 4:
                        api.post(f"/api/executions/{execution_id}/confirm", json={"proceed": True})
                    else:
                        os.kill(serving_process(stack), signal.SIGKILL)
                last = event
        assert last["type"] == "error" and last["rolledBack"] is True and last["undone"], last
        record = api.get(f"/api/executions/{execution_id}").json()
        assert (record["status"], record["stateName"]) == ("rolled_back", "Crashed")
        with api.stream("POST", "/api/execute-skill", json=react_request(f"after-{uuid.uuid4().hex[:8]}")) as response:
            assert [event for _, event in read_events(response)][-1]["type"] == "complete"


def serving_process(stack: Stack) -> int:
    return next(
        pid for pid in descendants(stack.process.pid)
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:3] == [b"-m", b"flows"]
    )
