"""Inside the sandbox: run one step of a third-party skill, its workspace on the other end of a pipe.

Started by ``skills.sandbox.steps`` as ``python -s -m skills.sandbox.child`` under bubblewrap.
Standard output is the protocol; a step's own prints go to standard error (the host logs them).
Only here is a third-party ``steps.py`` imported.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from skills.catalog import imported_step_functions
from skills.commands import CommandResult
from skills.context import StepContext
from skills.definition import SkillDefinition
from skills.errors import StepError
from skills.sandbox.protocol import StepRequest, decode, encode_error, raise_error, send


class Channel:
    """Calls to the host, answered in order (one step, one thread)."""

    def __init__(self, incoming: IO[bytes], outgoing: IO[bytes]) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self._next_id = 0

    def call(self, op: str, **arguments: Any) -> Any:
        self._next_id += 1
        send(self.outgoing, {"op": op, "id": self._next_id, **arguments})
        answer = decode(self.incoming.readline())
        if "error" in answer:
            raise_error(answer["error"])
        return answer.get("result")

    def notify(self, op: str, **arguments: Any) -> None:
        send(self.outgoing, {"op": op, **arguments})


class RelayedWorkspace:
    """The workspace as a step sees it, every call answered by the host's confined, journaled one."""

    def __init__(self, channel: Channel, root: Path, pretend: bool) -> None:
        self.channel = channel
        self.root = root
        self.pretend = pretend
        self.journal = None
        self.current_step: str | None = None
        self._relative: dict[str, str] = {}

    def relative(self, path: str | PurePosixPath) -> str:
        text = str(path)
        if text not in self._relative:
            self._relative[text] = self.channel.call("relative", path=text)
        return self._relative[text]

    def path(self, relative: str | PurePosixPath) -> Path:
        return self.root / self.relative(relative)

    def exists(self, relative: str) -> bool:
        return bool(self.channel.call("exists", path=relative))

    def is_empty_dir_or_missing(self, relative: str) -> bool:
        return bool(self.channel.call("is_empty_dir_or_missing", path=relative))

    def read_bytes(self, relative: str) -> bytes:
        return base64.b64decode(self.channel.call("read_bytes", path=relative))

    def read_text(self, relative: str) -> str:
        return self.read_bytes(relative).decode("utf-8")

    def make_dirs(self, relative: str) -> None:
        self.channel.call("make_dirs", path=relative)

    def write_text(self, relative: str, text: str, executable: bool = False) -> None:
        self.write_bytes(relative, text.encode("utf-8"), executable)

    def write_bytes(self, relative: str, data: bytes, executable: bool = False) -> None:
        self.channel.call("write_bytes", path=relative, data=base64.b64encode(data).decode(), executable=executable)

    def delete_file(self, relative: str) -> None:
        self.channel.call("delete_file", path=relative)

    def expect_created(self, relative: str, is_dir: bool) -> None:
        self.channel.call("expect_created", path=relative, is_dir=is_dir)


@dataclass
class SandboxedStepContext(StepContext):
    """The step API inside the sandbox: what the host must know is relayed to it."""

    channel: Channel | None = field(default=None, repr=False)

    def persona_change(self, change: str) -> None:
        super().persona_change(change)
        assert self.channel is not None
        self.channel.notify("persona_change", change=change)

    def run(
        self, argv: Sequence[str], cwd: str | None = None, timeout: float | None = None, creates: Sequence[str] = (),
        creates_dirs: Sequence[str] = (), env: dict[str, str] | None = None,
    ) -> CommandResult:
        assert self.channel is not None
        self.channel.notify("command", argv=[str(a) for a in argv], cwd=cwd if cwd is not None else self.target)
        return super().run(argv, cwd, timeout, creates, creates_dirs, env)

    def journal_built_image(self, image_id: str) -> None:
        raise StepError("Sandboxed skills cannot build container images: the sandbox has no container engine.")

    def journal_git_commit(self, commit: str) -> None:
        raise StepError("Sandboxed skills cannot record git commits for rollback; write files through the workspace.")


def forbid_network(reason: str) -> None:
    """Refuse sockets with a message that says why (the sandbox has no network anyway: this is the
    readable error; the unshared network namespace is what holds for any other way in)."""

    def refuse(event: str, arguments: tuple[Any, ...]) -> None:
        if event in ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"):
            raise PermissionError(f"network access refused: {reason}")

    sys.addaudithook(refuse)


def run_step(request: StepRequest, channel: Channel) -> Any:
    skill = SkillDefinition.model_validate(request.skill)
    workspace = RelayedWorkspace(channel, Path(request.workspace_root), request.pretend)
    context = SandboxedStepContext(
        skill=skill, params=request.params, level=request.level, persona=request.persona,  # type: ignore[arg-type]
        workspace=workspace, outputs=request.outputs, default_step_timeout=request.step_timeout,  # type: ignore[arg-type]
        on_log=lambda step_id, level, message: channel.notify("log", level=level, message=message), channel=channel,
    )
    function = imported_step_functions(skill).get(request.step_id)
    if function is None:
        raise StepError(f"steps.py defines no function for step {request.step_id!r}")
    context.begin_step(next(step for step in skill.steps if step.id == request.step_id))
    return function(context)


def main() -> None:
    incoming = sys.stdin.buffer
    outgoing = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in a step must not write on the protocol
    sys.stdout = sys.stderr
    request = StepRequest.model_validate_json(incoming.readline())
    channel = Channel(incoming, outgoing)
    if request.network_refusal:
        forbid_network(request.network_refusal)
    try:
        output = run_step(request, channel)
        json.dumps(output)
    except BaseException as error:  # noqa: BLE001 - everything a step raises is reported to the host
        traceback.print_exc()
        send(outgoing, {"op": "failed", "error": encode_error(error)})
        return
    send(outgoing, {"op": "done", "output": output})


if __name__ == "__main__":
    main()
