"""Running a command for a step: an argv list (never a shell string), a timeout that kills
the whole process tree, and output streamed line by line to the caller.

Every command runs under ``skills.process_guard``, which ends the command's whole tree when
the command exits, when asked to, or when the process running the step dies.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skills.errors import CommandFailedError
from skills.process_guard import die_with_parent, guarded_argv

OutputSink = Callable[[str], None]
# How long the guard gets to end the tree it watches before its group is killed outright.
_GUARD_STOP_SECONDS = 3.0


class RunningCommands:
    """The commands a step has running, so a step timeout can kill their process trees.

    A timeout cancels the step from outside while its thread still waits on a command;
    killing the command's process group is what really stops the work.
    """

    def __init__(self) -> None:
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if not self._stopped:
                self._processes.add(process)
                return
        _kill_group(process)  # started after ``stop``: it must not outlive the run that was stopped

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.discard(process)

    def kill_all(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, set()
        for process in processes:
            _kill_group(process)

    def stop(self) -> None:
        """Kill every command, and any started from now on (the run is being cancelled).

        A cancellation can arrive between a step's start and its command's: the command
        started just after is killed at once instead of running on until the step ends.
        """
        with self._lock:
            self._stopped = True
        self.kill_all()


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    returncode: int
    output: str


def run_command(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    on_output: OutputSink | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    running: RunningCommands | None = None,
) -> CommandResult:
    """Run ``argv`` in ``cwd``; stream merged stdout/stderr lines to ``on_output``.

    The command runs under the process guard, so a timeout kills npm *and* the node
    processes it spawned, not just the parent. Raises ``CommandFailedError`` on a
    non-zero exit (when ``check``) or a timeout. ``running`` tracks the command while it runs.
    """
    arguments = [str(part) for part in argv]
    environment = {**os.environ, **(env or {})}
    _check_executable(arguments[0], cwd, environment.get("PATH"))
    process = subprocess.Popen(
        guarded_argv(arguments),
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_guard_dies_with_this_thread,
    )
    if running is not None:
        running.add(process)
    lines: list[str] = []
    reader = threading.Thread(target=_pump, args=(process, lines, on_output), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    # The output ends when the guard has ended the command's whole tree, so wait on it first:
    # ``Popen.wait(timeout)`` polls with growing sleeps, which added up to 16 ms to every command.
    reader.join(timeout)
    try:
        returncode: int | None = process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill_group(process)
        returncode = None
    finally:
        if running is not None:
            running.discard(process)
    reader.join(timeout=5)
    output = "".join(lines)
    if returncode is None or (check and returncode != 0):
        raise CommandFailedError(arguments, returncode, output)
    return CommandResult(arguments, returncode, output)


def _check_executable(name: str, cwd: Path, path: str | None) -> None:
    """Raise what starting ``name`` directly would (``FileNotFoundError``, ``PermissionError``):
    the guard itself always starts, and callers and the diagnosis expect these errors."""
    if "/" not in name:
        if shutil.which(name, path=path) is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)
        return
    program = cwd / name
    if not program.exists():
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)
    if program.is_dir() or not os.access(program, os.X_OK):
        raise PermissionError(errno.EACCES, "Permission denied", name)


def _guard_dies_with_this_thread() -> None:
    """In the child, before exec: if the process running the step dies, even by SIGKILL, the
    kernel tells the guard, which ends the command's whole tree instead of leaving it
    writing into a rolled-back folder. (The step's thread waits for the command, so it
    lives as long as the command does.)"""
    die_with_parent(signal.SIGTERM)


def _pump(process: subprocess.Popen[bytes], lines: list[str], on_output: OutputSink | None) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        lines.append(line)
        if on_output is not None:
            on_output(line.rstrip("\n"))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Ask the guard to end the command's tree; kill its whole group if it does not in time."""
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=_GUARD_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
