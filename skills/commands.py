"""Running a command for a step: an argv list (never a shell string), a timeout that kills
the whole process tree, and output streamed line by line to the caller."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skills.errors import CommandFailedError

OutputSink = Callable[[str], None]
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class RunningCommands:
    """The commands a step has running, so a step timeout can kill their process trees.

    A timeout cancels the step from outside while its thread still waits on a command;
    killing the command's process group is what really stops the work.
    """

    def __init__(self) -> None:
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.add(process)

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.discard(process)

    def kill_all(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, set()
        for process in processes:
            _kill_group(process)


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

    The command gets its own process group, so a timeout kills npm *and* the node
    processes it spawned, not just the parent. Raises ``CommandFailedError`` on a
    non-zero exit (when ``check``) or a timeout. ``running`` tracks the command while it runs.
    """
    arguments = [str(part) for part in argv]
    process = subprocess.Popen(
        arguments,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    if running is not None:
        running.add(process)
    lines: list[str] = []
    reader = threading.Thread(target=_pump, args=(process, lines, on_output), daemon=True)
    reader.start()
    try:
        returncode: int | None = process.wait(timeout=timeout)
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


def _die_with_parent() -> None:
    """In the child, before exec: if the process running the step dies, even by SIGKILL, the
    kernel kills this command too, instead of leaving it writing into a rolled-back folder."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _pump(process: subprocess.Popen[bytes], lines: list[str], on_output: OutputSink | None) -> None:
    assert process.stdout is not None
    for raw in iter(process.stdout.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        lines.append(line)
        if on_output is not None:
            on_output(line.rstrip("\n"))


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
