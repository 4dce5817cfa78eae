"""Resource limits of a sandbox: processes and memory, by control group where one can be made.

A control group (cgroup v2, or v1's ``pids`` and ``memory`` controllers) limits the whole
sandbox, whatever user it runs as, and says afterwards which limit was hit. Where none can be
made (no write access to ``/sys/fs/cgroup``), ``setrlimit`` stands in: ``RLIMIT_AS`` for memory
and ``RLIMIT_NPROC`` for processes (which the kernel does not apply to root).
"""

from __future__ import annotations

import os
import resource
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed step may use; its time limit is the step's timeout."""

    memory_mb: int = 1024
    processes: int = 128


class ResourceGroup:
    """The control groups one sandbox runs in (made on ``create``, removed on ``remove``)."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.groups: dict[str, Path] = {}  # controller ("pids", "memory", or "unified") -> folder

    def create(self) -> None:
        name = f"skillworks-sandbox-{uuid.uuid4().hex[:12]}"
        settings = {
            "pids": {"pids.max": str(self.limits.processes)},
            "memory": {"memory.limit_in_bytes": str(self.limits.memory_mb * 1024 * 1024)},
            "unified": {"pids.max": str(self.limits.processes), "memory.max": str(self.limits.memory_mb * 1024 * 1024)},
        }
        for controller, parent in _writable_parents().items():
            folder = parent / name
            try:
                folder.mkdir()
                for file_name, value in settings[controller].items():
                    (folder / file_name).write_text(value)
            except OSError:
                _remove(folder)
                continue
            self.groups[controller] = folder

    def enter(self) -> None:
        """In the sandbox's first process, before ``exec``: join the groups, or fall back to rlimits."""
        for folder in self.groups.values():
            (folder / "cgroup.procs").write_text("0")
        limited = {"pids" if c == "unified" else c for c in self.groups} | ({"pids", "memory"} if "unified" in self.groups else set())
        if "memory" not in limited:
            size = self.limits.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        if "pids" not in limited:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.limits.processes, self.limits.processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def exceeded(self) -> str | None:
        """Which limit the sandbox ran into so far, in words, or None."""
        for controller, folder in self.groups.items():
            events = _read_counters(folder / "pids.events") if controller in ("pids", "unified") else {}
            if events.get("max", 0) > 0:
                return f"it tried to run more than {self.limits.processes} processes at once (the process limit)"
            if controller == "memory" and _read_int(folder / "memory.failcnt") > 0 and _oom_killed(folder / "memory.oom_control"):
                return f"it used more than {self.limits.memory_mb} MB of memory (the memory limit)"
            if controller == "unified" and _read_counters(folder / "memory.events").get("oom_kill", 0) > 0:
                return f"it used more than {self.limits.memory_mb} MB of memory (the memory limit)"
        return None

    def kill_all(self) -> None:
        """SIGKILL every process still in the groups (a sandbox is over when its step is)."""
        for folder in self.groups.values():
            for _ in range(20):
                pids = [int(line) for line in _read_lines(folder / "cgroup.procs")]
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    def remove(self) -> None:
        self.kill_all()
        for folder in self.groups.values():
            _remove(folder)
        self.groups.clear()


def _writable_parents() -> dict[str, Path]:
    """This process's own cgroup folder per controller, where a child group can be made."""
    found: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "" and (CGROUP_ROOT / "cgroup.controllers").is_file():
            candidates = {"unified": CGROUP_ROOT / path.lstrip("/")}
        else:
            candidates = {c: CGROUP_ROOT / c / path.lstrip("/") for c in controllers.split(",") if c in ("pids", "memory")}
        for controller, folder in candidates.items():
            if folder.is_dir() and os.access(folder, os.W_OK):
                found[controller] = folder
    return found


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return []


def _read_counters(path: Path) -> dict[str, int]:
    counters = {}
    for line in _read_lines(path):
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            counters[key] = int(value)
    return counters


def _read_int(path: Path) -> int:
    lines = _read_lines(path)
    return int(lines[0]) if lines and lines[0].isdigit() else 0


def _oom_killed(path: Path) -> bool:
    counters = _read_counters(path)
    return counters.get("oom_kill", 0) > 0 or counters.get("under_oom", 0) > 0


def _remove(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
