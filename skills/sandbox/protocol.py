"""What crosses the pipe between a sandboxed step (the child) and skillworks (the host).

One JSON object per line. The host sends a ``StepRequest`` first; then the child sends
calls (``{"op": "write_bytes", "id": 3, ...}``), each answered by ``{"id": 3, "result": ...}``
or ``{"id": 3, "error": {...}}``, and notices without an ``id`` (``log``, ``persona_change``,
``command``) that get no answer. The child ends with ``done`` (the step's output) or
``failed`` (its error). Bytes travel in base64.
"""

from __future__ import annotations

import errno
import json
from typing import IO, Any, NoReturn

from pydantic import BaseModel

from skills.errors import PathOutsideWorkspaceError, UserMessageError

MAX_LINE_BYTES = 64 * 1024 * 1024  # a file written through the workspace travels in one line


class StepRequest(BaseModel):
    """Everything the child needs to run one step."""

    skill: dict[str, Any]
    step_id: str
    params: dict[str, Any]
    level: str
    persona: str
    outputs: dict[str, Any]
    pretend: bool
    workspace_root: str
    step_timeout: float
    network_refusal: str | None  # why sockets are refused, or None if the network is allowed


class ProtocolError(UserMessageError):
    """The other side of the pipe broke the protocol (a sandboxed step writing on the pipe itself, say)."""


def send(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    stream.flush()


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"the sandboxed step sent something that is not a message: {line[:200]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolError(f"the sandboxed step sent something that is not a message: {line[:200]!r}")
    return message


def encode_error(error: BaseException) -> dict[str, Any]:
    """An exception as data: its type, message, and what rebuilds it on the other side."""
    payload: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, UserMessageError):
        payload.update(message=error.message, suggestions=error.suggestions, field=error.field, user=True)
        if isinstance(error, PathOutsideWorkspaceError):
            payload["path"] = error.path
    elif isinstance(error, OSError):
        payload.update(errno=error.errno, strerror=error.strerror, filename=str(error.filename) if error.filename else None)
    return payload


def raise_error(payload: dict[str, Any]) -> NoReturn:
    """Raise, in the child, the error the host's workspace raised (so the step can catch it as usual)."""
    if payload.get("errno") is not None:
        raise OSError(payload["errno"], payload.get("strerror") or errno.errorcode.get(payload["errno"], ""), payload.get("filename"))
    if payload.get("user"):
        error = UserMessageError(payload["message"], payload.get("suggestions") or [], payload.get("field"))
        raise error
    raise ProtocolError(f"{payload.get('type')}: {payload.get('message')}")
