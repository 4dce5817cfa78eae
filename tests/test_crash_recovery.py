"""An operator's ``kill -9`` of the serving process, at the worst moments, then a restart.

Whatever the run was doing — paused for a confirmation, inside a step's command tree,
half-way through the journal's writes — no process of it survives the kill, and after the
restart, with nobody acting, the run is ``Crashed``, the workspace is byte-identical to
before, and the client that was streaming the run got an ``error`` event saying it was
rolled back.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from skills.journal import ExecutionJournal
from tests.conftest import ServingProcess
from tests.runtime import processes_with, processes_working_in
from tests.sse import read_events
from tests.tree import tree_fingerprint

RECOVERY_SECONDS = 30
# The run's processes die as soon as they see the serving process gone; a loaded CI machine
# may take a few seconds to schedule them.
PROCESSES_DIE_SECONDS = 10


class StreamFollower:
    """A client streaming one execution in the background, as the dashboard or the CLI would."""

    def __init__(self, facade: str, request: dict[str, Any]) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._follow, args=(facade, request), daemon=True)
        self._thread.start()

    def _follow(self, facade: str, request: dict[str, Any]) -> None:
        with httpx.Client(base_url=facade, timeout=httpx.Timeout(30, read=300)) as client:
            with client.stream("POST", "/api/execute-skill", json=request) as response:
                for _, data in read_events(response):
                    with self.changed:
                        self.events.append(data)
                        self.changed.notify_all()

    def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool], seconds: float = 120) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: condition(self.events), timeout=seconds), self.events

    @property
    def execution_id(self) -> str:
        return self.events[0]["executionId"]

    def finish(self) -> list[dict[str, Any]]:
        self._thread.join(timeout=RECOVERY_SECONDS + 60)
        assert not self._thread.is_alive(), f"the stream did not end: {self.events[-3:]}"
        return self.events


def crash_points_request(folder: str, marker: str, level: str = "expert", files: int = 10) -> dict[str, Any]:
    return {
        "skillId": "crash-points", "level": level, "persona": "full-stack",
        "parameters": {"folder": folder, "marker": marker, "files": files},
    }


def outlived(owner: int | None, marker: str, folder: Path) -> str:
    """What of the run is still alive, for the failure message: each process with its state, its
    parent and its pending signals (SIGKILL pending in a process stuck on the disk is not the
    same failure as a process nobody signalled)."""
    pids = sorted({*([owner] if owner else []), *processes_with(marker), *processes_working_in(folder)})
    return "a process of the run outlived the serving process:\n" + "\n".join(map(described_process, pids))


def described_process(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(bytes(1), b" ").decode(errors="replace")[:200]
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    except OSError:
        return f"{pid}: gone meanwhile"
    details = ", ".join(f"{key} {status.get(key, '?').strip()}" for key in ("State", "PPid", "SigPnd", "ShdPnd", "SigBlk"))
    return f"{pid}: {command} ({details})"


def journal_lines(workspace: Path, execution_id: str) -> int:
    entries = ExecutionJournal(workspace, execution_id).entries_file
    return len(entries.read_bytes().splitlines()) if entries.exists() else 0


def paused_before_the_second_step(facade: str, folder: str, marker: str, workspace: Path) -> StreamFollower:
    run = StreamFollower(facade, crash_points_request(folder, marker, level="beginner"))
    run.wait_for(lambda events: bool(events) and events[-1]["type"] == "awaiting_confirmation")
    httpx.post(f"{facade}/api/executions/{run.execution_id}/confirm", json={"proceed": True}, timeout=30)
    run.wait_for(lambda events: [e["type"] for e in events].count("awaiting_confirmation") == 2)
    return run


def inside_a_command(facade: str, folder: str, marker: str, workspace: Path) -> StreamFollower:
    run = StreamFollower(facade, crash_points_request(folder, marker))
    run.wait_for(lambda events: any(e.get("stepId") == "run-command" for e in events))
    deadline = time.monotonic() + 30
    while len(processes_with(marker)) < 3:  # the guard, the command and its grandchild in a session of its own
        assert time.monotonic() < deadline, "the command tree did not start"
        time.sleep(0.05)
    return run


def inside_the_journal_writes(facade: str, folder: str, marker: str, workspace: Path) -> StreamFollower:
    run = StreamFollower(facade, crash_points_request(folder, marker, files=20000))
    run.wait_for(lambda events: any(e.get("stepId") == "write-files" for e in events))
    deadline = time.monotonic() + 60
    while journal_lines(workspace, run.execution_id) < 300:
        assert time.monotonic() < deadline, "the step wrote nothing"
        time.sleep(0.01)
    return run


@pytest.mark.parametrize("kill_point", [paused_before_the_second_step, inside_a_command, inside_the_journal_writes])
def test_sigkill_of_the_serving_process_then_a_restart_leaves_no_process_and_no_change(
    facade: str, served_skills: ServingProcess, workspace: Path, kill_point: Callable[..., StreamFollower]
) -> None:
    before = tree_fingerprint(workspace)
    folder, marker = f"crash-{uuid.uuid4().hex[:8]}", f"marker-{uuid.uuid4().hex[:8]}"
    run = kill_point(facade, folder, marker, workspace)
    owner = ExecutionJournal(workspace, run.execution_id).owner()
    assert owner is not None and owner.is_alive()

    served_skills.kill()
    try:
        deadline = time.monotonic() + PROCESSES_DIE_SECONDS
        while owner.is_alive() or processes_with(marker) or processes_working_in(workspace / folder):
            assert time.monotonic() < deadline, outlived(owner.pid if owner.is_alive() else None, marker, workspace / folder)
            time.sleep(0.05)
    finally:
        served_skills.start()  # whatever happened, the session's other tests need it serving

    recovered_by = time.monotonic() + RECOVERY_SECONDS
    with httpx.Client(base_url=facade, timeout=30) as client:
        while (record := client.get(f"/api/executions/{run.execution_id}").json())["status"] != "rolled_back":
            assert time.monotonic() < recovered_by, record
            time.sleep(0.5)
    assert record["stateName"] == "Crashed"
    assert tree_fingerprint(workspace) == before
    last = run.finish()[-1]
    assert last["type"] == "error" and last["rolledBack"] is True, last
