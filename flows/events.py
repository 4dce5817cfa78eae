"""The execution event contract between a running skill flow and whoever streams it.

A skill flow emits one Prefect event per documented SSE event, named
``skillworks.execution.<type>`` (``step_progress``, ``step_completed``, ``log``, ...), about the
resource ``skillworks.execution.<flow run id>`` and related to ``prefect.flow-run.<id>``. The
payload holds the SSE data and a sequence number ``seq`` (1, 2, 3, ...): Prefect may deliver
events late or out of order, and ``seq`` lets a reader restore the order, notice gaps, and
give every SSE event a stable ``id`` for ``Last-Event-ID``. The ``started`` event is not
emitted by the flow: the facade knows it the moment the flow run exists, and gives it seq 0.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID

from prefect import get_run_logger
from prefect.events import emit_event

EVENT_PREFIX = "skillworks.execution."
TERMINAL_TYPES = frozenset({"complete", "error", "cancelled"})
_LOG_FLUSH_SECONDS = 0.25
_LOG_LINES_PER_STEP = 400


def execution_resource_id(flow_run_id: UUID | str) -> str:
    return f"{EVENT_PREFIX}{flow_run_id}"


def flow_run_resource_id(flow_run_id: UUID | str) -> str:
    return f"prefect.flow-run.{flow_run_id}"


class ExecutionReporter:
    """Emits one flow run's SSE-shaped events, numbered, with command output throttled.

    Thread-safe: command output arrives on a reader thread while steps run.
    """

    def __init__(self, flow_run_id: UUID, skill_name: str) -> None:
        self.flow_run_id = flow_run_id
        self.skill_name = skill_name
        self._seq = 0
        self._lock = threading.Lock()
        self._pending_log: list[str] = []
        self._pending_step = ""
        self._pending_level = "info"
        # Taken here, in the flow's context: command output arrives on other threads.
        self._run_logger = get_run_logger()
        self._last_flush = 0.0
        self._lines_this_step: dict[str, int] = {}

    def report(self, event_type: str, **data: Any) -> None:
        """Emit the SSE event ``event_type`` with ``data`` (camelCase keys, as on the wire)."""
        with self._lock:
            self._flush_log_locked()
            self._emit_locked(event_type, data)

    def log(self, step_id: str, level: str, message: str) -> None:
        """Queue one output line; lines go out in batches, at most a few per second, capped per step.

        Every line also goes to the flow run's log in Prefect, uncapped.
        """
        self._run_logger.log(logging.WARNING if level == "warning" else logging.INFO, "[%s] %s", step_id, message)
        with self._lock:
            count = self._lines_this_step.get(step_id, 0) + 1
            self._lines_this_step[step_id] = count
            if count > _LOG_LINES_PER_STEP:
                return
            if count == _LOG_LINES_PER_STEP:
                message = f"(output of step {step_id} truncated; the full log is in the Prefect UI)"
            if (step_id, level) != (self._pending_step, self._pending_level):
                self._flush_log_locked()
                self._pending_step, self._pending_level = step_id, level
            self._pending_log.append(message)
            if time.monotonic() - self._last_flush >= _LOG_FLUSH_SECONDS:
                self._flush_log_locked()

    def _flush_log_locked(self) -> None:
        if self._pending_log:
            data = {"stepId": self._pending_step, "level": self._pending_level, "message": "\n".join(self._pending_log)}
            self._emit_locked("log", data)
            self._pending_log = []
        self._last_flush = time.monotonic()

    def _emit_locked(self, event_type: str, data: dict[str, Any]) -> None:
        self._seq += 1
        emit_event(
            event=EVENT_PREFIX + event_type,
            resource={
                "prefect.resource.id": execution_resource_id(self.flow_run_id),
                "prefect.resource.name": self.skill_name,
            },
            related=[{"prefect.resource.id": flow_run_resource_id(self.flow_run_id), "prefect.resource.role": "flow-run"}],
            payload={"seq": self._seq, "data": {"type": event_type, **data}},
        )


def sse_data_from_event(event_name: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """``(seq, data)`` for a skillworks execution event, None for any other event."""
    if not event_name.startswith(EVENT_PREFIX) or "seq" not in payload:
        return None
    return int(payload["seq"]), dict(payload.get("data", {}))
