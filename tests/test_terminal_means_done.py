"""A terminal event means the run is over: a client may act on it at once.

By the time a client reads ``complete``, the history shows the run completed, a rollback is
accepted, and the folder is free for the next run — every time, not most of the time.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from tests.sse import read_events

IN_A_ROW = 100


def touch(api: httpx.Client, folder: str, name: str) -> list[dict]:
    request = {"skillId": "touch-file", "parameters": {"folder": folder, "name": name}, "level": "expert"}
    with api.stream("POST", "/api/execute-skill", json=request) as response:
        assert response.status_code == 200, response.read()
        return [event for _, event in read_events(response)]


def test_acting_on_complete_at_once_never_meets_a_running_run(api: httpx.Client, workspace: Path) -> None:
    folder = f"done-{uuid.uuid4().hex[:8]}"
    (workspace / folder).mkdir()
    for attempt in range(IN_A_ROW):
        events = touch(api, folder, f"file-{attempt}")  # the folder must be free: no 409 target_busy
        complete = events[-1]
        assert complete["type"] == "complete", complete

        record = api.get(f"/api/executions/{complete['executionId']}").json()
        assert record["status"] == "completed", (attempt, record)
        undone = api.post("/api/rollback", json={"rollbackToken": complete["rollbackToken"]})
        assert undone.status_code == 200, (attempt, undone.text)
    assert list((workspace / folder).iterdir()) == []


def test_reattaching_to_a_finished_run_ends_as_soon_as_its_events_are_out(api: httpx.Client, workspace: Path) -> None:
    folder = f"reattach-{uuid.uuid4().hex[:8]}"
    (workspace / folder).mkdir()
    events = touch(api, folder, "once")
    execution_id, last_id = events[0]["executionId"], len(events) - 1

    for last_event_id in (None, 2, last_id, last_id + 5):
        headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        started = time.monotonic()
        with api.stream("GET", f"/api/executions/{execution_id}/events", headers=headers) as response:
            replayed = [event for _, event in read_events(response)]
        assert time.monotonic() - started < 2.0, f"the stream was held open after its end ({last_event_id})"
        expected = events if last_event_id is None else events[last_event_id + 1:]
        assert replayed == expected
