"""No process a step started outlives the step, however the process running the step ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from skills.commands import RunningCommands, run_command
from skills.process_guard import guarded_argv
from tests.runtime import processes_with

# A command tree as npm makes one, and worse: a child that starts its own session (escaping
# the process group) and a grandchild, all sleeping with the marker in their argv. (Python
# sleeps, not `sleep 300 MARKER`: GNU sleep exits at once on an argument that is no number.)
TREE = """
import os, subprocess, sys, time
marker = sys.argv[1]
sleeper = [sys.executable, "-c", "import time; time.sleep(300)", marker]
subprocess.Popen(sleeper)
subprocess.Popen([sys.executable, "-c", "import subprocess, sys; "
                  "subprocess.Popen(sys.argv[2:]); subprocess.Popen(sys.argv[2:]).wait()", marker, *sleeper],
                 start_new_session=True)
print("tree started", flush=True)
time.sleep(float(sys.argv[2]))
"""
TREE_PROCESSES = 6  # the guard, the command, its sleeper, the child in its own session and its two sleepers


def wait_until_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return processes_with(marker)


@pytest.fixture
def marker() -> str:
    return f"marker-{uuid.uuid4().hex[:8]}"


def test_a_command_that_exits_takes_its_background_processes_with_it(tmp_path: Path, marker: str) -> None:
    result = run_command([sys.executable, "-c", TREE, marker, "0"], tmp_path, timeout=30)
    assert "tree started" in result.output
    assert wait_until_gone(marker, 1.0) == []


def test_a_timeout_kills_the_whole_tree_including_a_child_in_its_own_session(tmp_path: Path, marker: str) -> None:
    with pytest.raises(Exception, match="timed out"):
        run_command([sys.executable, "-c", TREE, marker, "300"], tmp_path, timeout=1.0)
    assert wait_until_gone(marker, 1.0) == []


def test_killing_the_running_commands_of_a_step_ends_their_trees(tmp_path: Path, marker: str) -> None:
    running = RunningCommands()
    worker = threading.Thread(
        target=lambda: run_command([sys.executable, "-c", TREE, marker, "300"], tmp_path, 600, check=False, running=running)
    )
    worker.start()
    deadline = time.monotonic() + 10
    while len(processes_with(marker)) < TREE_PROCESSES and time.monotonic() < deadline:
        time.sleep(0.05)
    running.kill_all()
    worker.join(timeout=10)
    assert wait_until_gone(marker, 1.0) == []


def test_a_command_started_after_its_run_was_stopped_is_killed_at_once(tmp_path: Path, marker: str) -> None:
    """A cancellation that lands between a step's start and its command's start still ends the command."""
    running = RunningCommands()
    running.stop()
    started = time.monotonic()

    result = run_command([sys.executable, "-c", TREE, marker, "300"], tmp_path, 600, check=False, running=running)

    assert result.returncode != 0 and time.monotonic() - started < 30
    assert wait_until_gone(marker, 1.0) == []


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_when_the_process_running_a_step_dies_its_commands_die_too(tmp_path: Path, marker: str, signum: int) -> None:
    """The flow-run process is killed (SIGKILL: no clean-up of its own); the guard ends the tree."""
    step_runner = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys; from pathlib import Path; from skills.commands import run_command; "
            "run_command([sys.executable, '-c', sys.argv[1], sys.argv[2], '300'], Path(sys.argv[3]), 600)",
            TREE, marker, str(tmp_path),
        ],
        cwd=Path(__file__).parent.parent,
    )
    deadline = time.monotonic() + 10
    while len(processes_with(marker)) < TREE_PROCESSES and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(marker)) >= TREE_PROCESSES, "the tree started"

    os.kill(step_runner.pid, signum)
    step_runner.wait()

    assert wait_until_gone(marker) == []


def test_the_stop_signal_arriving_again_and_again_still_ends_the_whole_tree(tmp_path: Path, marker: str) -> None:
    """A multi-threaded process that dies goes thread by thread, and the kernel sends the
    parent-death signal again each time the guard passes to the next thread: a guard that
    stopped at the second signal, in the middle of its clean-up, left the command running."""
    guard = subprocess.Popen(guarded_argv([sys.executable, "-c", TREE, marker, "300"]), cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 10
    while len(processes_with(marker)) < TREE_PROCESSES and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(marker)) >= TREE_PROCESSES, "the tree started"

    while guard.poll() is None:
        try:
            guard.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            break

    assert wait_until_gone(marker) == []


def test_a_command_gets_the_default_signals_python_ignores(tmp_path: Path) -> None:
    """``yes | head -1`` ends quietly, as in a shell: ``yes`` dies of SIGPIPE, not "Broken pipe"."""
    assert run_command(["sh", "-c", "yes | head -1"], tmp_path, timeout=30).output == "y\n"


def test_a_timeout_is_kept_by_a_command_that_closes_its_output(tmp_path: Path) -> None:
    """The end of the output is not taken for the end of the command."""
    started = time.monotonic()
    with pytest.raises(Exception, match="timed out"):
        run_command(["sh", "-c", "exec >&- 2>&-; sleep 30"], tmp_path, timeout=1.0)
    assert time.monotonic() - started < 10
