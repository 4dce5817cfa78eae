"""The host side of a sandboxed step: start the sandbox, answer its workspace calls, enforce limits.

``sandboxed_step_functions`` is what ``skills.catalog.step_functions`` returns for a third-party
skill: one ``SandboxedStep`` per step ``steps.py`` defines. Called with the host's
``StepContext``, like any step function, it runs the step in a fresh sandbox and applies what
the step asks of the workspace to the host's workspace — confined to the workspace, journaled
(or, in a dry run, pretended) — so rollback undoes a sandboxed step byte for byte, like any other.
"""

from __future__ import annotations

import base64
import os
import select
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skills.context import PersonaChange, PlannedCommand, StepContext
from skills.definition import SkillDefinition
from skills.errors import UserMessageError
from skills.process_guard import die_with_parent
from skills.sandbox.bubblewrap import SCRATCH, STEP_API_ROOT, SandboxMounts, bubblewrap_argv
from skills.sandbox.limits import ResourceGroup, SandboxLimits
from skills.sandbox.protocol import MAX_LINE_BYTES, ProtocolError, StepRequest, decode, encode_error, send

# Time to start the sandbox and import the step API, on top of the step's own timeout.
START_ALLOWANCE_SECONDS = 2.0
_POLL_SECONDS = 0.1
_STDERR_TAIL = 20
# Run by the sandbox's Python: skillworks' environment goes after the skill's own (site-packages),
# for the step API's dependencies; then the child module.
_BOOTSTRAP = (
    "import os, runpy, sys; sys.path[:] = [p for p in sys.path if p]"
    " + [p for p in os.environ.pop('SKILLWORKS_STEP_API_PATH', '').split(os.pathsep) if p];"
    " runpy.run_module('skills.sandbox.child', run_name='__main__', alter_sys=True)"
)


class SandboxedStepFailed(UserMessageError):
    """A sandboxed step raised, broke a limit, or died; the message says which and why."""


def sandboxed_step_functions(skill: SkillDefinition, defined: set[str]) -> dict[str, SandboxedStep]:
    return {step_id: SandboxedStep(skill, step_id) for step_id in defined}


@dataclass(frozen=True)
class SandboxedStep:
    """A third-party step, called like a step function: ``SandboxedStep(skill, "write-files")(context)``."""

    skill: SkillDefinition
    step_id: str

    def __call__(self, context: StepContext) -> Any:
        step = next(s for s in self.skill.steps if s.id == self.step_id)
        timeout = step.timeout or context.step_timeout
        writable = self._writable_target(context)
        request = StepRequest(
            skill=self.skill.model_dump(mode="json", exclude={"body"}), step_id=self.step_id, params=context.params,
            level=context.level, persona=context.persona, outputs=context.outputs, pretend=context.pretend,
            workspace_root=str(context.workspace.root), step_timeout=timeout,
            network_refusal=self._network_refusal(context),
        )
        defaults = SandboxLimits()
        limits = SandboxLimits(
            memory_mb=int(context.settings.get("sandbox_memory_mb") or defaults.memory_mb),
            processes=int(context.settings.get("sandbox_processes") or defaults.processes),
        )
        group = ResourceGroup(limits)
        group.create()
        try:
            process = self._start(writable, request.network_refusal is None, group)
            context.running.add(process)  # a step timeout or a cancellation kills it like a command
            try:
                return _Relay(context, process, group, timeout).serve(request)
            finally:
                context.running.discard(process)
                _stop(process)
        finally:
            group.remove()

    def _writable_target(self, context: StepContext) -> Path | None:
        """The target folder, made (journaled) before a real run so its commands can write there."""
        if context.pretend or context.target == ".":
            return None
        context.workspace.make_dirs(context.target)
        return context.workspace.path(context.target)

    def _network_refusal(self, context: StepContext) -> str | None:
        if not self.skill.permissions.network:
            return f"the skill {self.skill.id!r} does not declare `permissions: {{network: true}}` in its SKILL.md"
        if not context.network_allowed:
            return f"the skill {self.skill.id!r} asks for the network, but it was not allowed for this execution (allowNetwork)"
        return None

    def _start(self, writable: Path | None, network: bool, group: ResourceGroup) -> subprocess.Popen[bytes]:
        origin = self.skill.origin
        assert origin is not None and self.skill.folder is not None
        read_only = [self.skill.folder.resolve()]
        path = ["/usr/local/bin", "/usr/bin", "/bin"]
        python = sys.executable
        environment = {
            "HOME": str(SCRATCH / "home"), "TMPDIR": str(SCRATCH), "LANG": "C.UTF-8", "PYTHONPATH": str(STEP_API_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1", "npm_config_cache": str(SCRATCH / "npm-cache"),
            "npm_config_update_notifier": "false",
        }
        if origin.python_environment is not None:
            read_only.append(origin.python_environment)
            python = str(origin.python_environment / "bin" / "python")
            path.insert(0, str(origin.python_environment / "bin"))
            # The skill's environment first, then skillworks' (the step API's own dependencies).
            environment["SKILLWORKS_STEP_API_PATH"] = os.pathsep.join(p for p in sys.path if p.endswith("site-packages"))
        if origin.node_modules is not None:
            read_only.append(origin.node_modules)
            environment["NODE_PATH"] = str(origin.node_modules)
            path.insert(0, str(origin.node_modules / ".bin"))
        environment["PATH"] = os.pathsep.join(path)
        mounts = SandboxMounts(read_only=read_only, writable=writable, network=network)
        argv = bubblewrap_argv([python, "-s", "-c", _BOOTSTRAP], mounts, environment)

        def enter_sandbox_limits() -> None:
            group.enter()
            die_with_parent(signal.SIGKILL)

        return subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=enter_sandbox_limits,
        )


class _Relay:
    """Answers one sandboxed step's calls against the host's context until it is done."""

    def __init__(self, context: StepContext, process: subprocess.Popen[bytes], group: ResourceGroup, timeout: float) -> None:
        self.context = context
        self.process = process
        self.group = group
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout + START_ALLOWANCE_SECONDS
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL)
        self.last_error: BaseException | None = None  # of the last call the host refused
        self._buffers = {"out": b"", "err": b""}

    def serve(self, request: StepRequest) -> Any:
        assert self.process.stdin is not None
        try:
            send(self.process.stdin, request.model_dump(mode="json"))
        except BrokenPipeError:
            pass  # it died at once: reported below
        while True:
            for line in self._read_lines():
                message = decode(line)
                if message.get("op") == "done":
                    return message.get("output")
                if message.get("op") == "failed":
                    raise self._failure(message.get("error") or {})
                self._answer(message)
            self._check_limits()

    def _read_lines(self) -> list[bytes]:
        assert self.process.stdout is not None and self.process.stderr is not None
        streams = {self.process.stdout.fileno(): "out", self.process.stderr.fileno(): "err"}
        ready, _, _ = select.select(list(streams), [], [], _POLL_SECONDS)
        lines: list[bytes] = []
        closed = False
        for descriptor in ready:
            chunk = os.read(descriptor, 1024 * 1024)
            name = streams[descriptor]
            if not chunk:
                closed = closed or name == "out"
                continue
            self._buffers[name] += chunk
            *complete, self._buffers[name] = self._buffers[name].split(b"\n")
            if name == "out":
                lines += complete
            else:
                self._log_stderr(complete)
            if len(self._buffers[name]) > MAX_LINE_BYTES:
                raise ProtocolError("the sandboxed step sent a message larger than the protocol allows")
        if closed and not lines:
            raise self._died()
        return lines

    def _log_stderr(self, lines: list[bytes]) -> None:
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            self.stderr_tail.append(line)
            self.context.log(line, "info")

    def _answer(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if "id" not in message:
            self._notice(op, message)
            return
        try:
            reply: dict[str, Any] = {"id": message["id"], "result": self._call(op, message)}
        except (UserMessageError, OSError) as refused:
            self.last_error = refused
            reply = {"id": message["id"], "error": encode_error(refused)}
        assert self.process.stdin is not None
        send(self.process.stdin, reply)

    def _call(self, op: str | None, message: dict[str, Any]) -> Any:
        workspace = self.context.workspace
        path = str(message.get("path", ""))
        if op == "relative":
            return workspace.relative(path)
        if op == "exists":
            return workspace.exists(path)
        if op == "is_empty_dir_or_missing":
            return workspace.is_empty_dir_or_missing(path)
        if op == "read_bytes":
            return base64.b64encode(workspace.read_bytes(path)).decode()
        if op == "make_dirs":
            return workspace.make_dirs(path)
        if op == "write_bytes":
            return workspace.write_bytes(path, base64.b64decode(message["data"]), bool(message.get("executable")))
        if op == "delete_file":
            return workspace.delete_file(path)
        if op == "expect_created":
            return workspace.expect_created(path, bool(message.get("is_dir")))
        raise ProtocolError(f"the sandboxed step asked for an unknown operation {op!r}")

    def _notice(self, op: str | None, message: dict[str, Any]) -> None:
        context = self.context
        if op == "log":
            context.log(str(message.get("message", "")), str(message.get("level", "info")))
        elif op == "persona_change":
            context.persona_changes.append(PersonaChange(context.step_id, context.persona, str(message.get("change", ""))))
        elif op == "command":
            argv = [str(a) for a in message.get("argv", [])]
            context.commands.append(PlannedCommand(context.step_id, argv, str(message.get("cwd", context.target))))
        else:
            raise ProtocolError(f"the sandboxed step sent an unknown notice {op!r}")

    def _check_limits(self) -> None:
        exceeded = self.group.exceeded()
        if exceeded:
            raise SandboxedStepFailed(f"The sandbox stopped the step: {exceeded}.", ["Fix the skill's step, or report it to its publisher."])
        if time.monotonic() > self.deadline:
            raise SandboxedStepFailed(
                f"The sandbox stopped the step: it ran past its time limit of {self.timeout:g} s.",
                ["Raise the step's `timeout` in SKILL.md if it really needs longer."],
            )

    def _failure(self, error: dict[str, Any]) -> BaseException:
        """The step's own error: the host's original when the step let a refused call's error through."""
        if self.last_error is not None and str(error.get("message")) in (str(self.last_error), getattr(self.last_error, "message", None)):
            return self.last_error
        message = str(error.get("message") or error.get("type"))
        if not error.get("user"):
            message = f"{error.get('type')}: {message}"
        return SandboxedStepFailed(message, list(error.get("suggestions") or []), error.get("field"))

    def _died(self) -> SandboxedStepFailed:
        returncode = self.process.wait()
        exceeded = self.group.exceeded()
        if exceeded:
            return SandboxedStepFailed(f"The sandbox stopped the step: {exceeded}.", ["Fix the skill's step, or report it to its publisher."])
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        tail = "\n".join(self.stderr_tail)
        return SandboxedStepFailed(f"The sandboxed step {how} before finishing.\n{tail}".rstrip())


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except BrokenPipeError:
                pass
