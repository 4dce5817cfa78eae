"""Emitting a run's events (``flows.events``) as Prefect events, numbered, logs throttled.

A skill run inside a workflow (a node) also forwards its events, with the node's id, to the
workflow's reporter: the workflow's stream then carries every node's steps and logs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from prefect import get_run_logger
from prefect.events import emit_event

from flows.events import (
    EVENT_PREFIX,
    TERMINAL_TYPES,
    ExecutionEvent,
    Log,
    execution_resource_id,
    flow_run_resource_id,
)

_LOG_FLUSH_SECONDS = 0.25
_LOG_LINES_PER_STEP = 400


@dataclass(frozen=True)
class WorkflowNode:
    """The workflow node a run executes as: its id in events, the workflow run's reporter, and
    whom to tell the run's id as soon as it exists."""

    node_id: str
    workflow_reporter: ExecutionReporter
    on_started: Callable[[UUID], None]


# Set by the workflow around a node's subflow call; the subflow runs in the same task, so it sees it.
current_workflow_node: ContextVar[WorkflowNode | None] = ContextVar("current_workflow_node", default=None)


class ExecutionReporter:
    """Emits one flow run's SSE-shaped events, numbered, with command output throttled.

    Thread-safe: command output arrives on a reader thread while steps run.
    """

    def __init__(self, flow_run_id: UUID, run_name: str) -> None:
        self.flow_run_id = flow_run_id
        self.run_name = run_name
        self._seq = 0
        self._lock = threading.Lock()
        self._pending_log: list[str] = []
        self._pending_step = ""
        self._pending_level = "info"
        # Taken here, in the flow's context: command output arrives on other threads.
        self._run_logger = get_run_logger()
        self._last_flush = 0.0
        self._lines_this_step: dict[str, int] = {}
        self._node = current_workflow_node.get()

    def report(self, event: ExecutionEvent) -> None:
        """Emit ``event`` (after any log lines still queued)."""
        with self._lock:
            self._flush_log_locked()
            self._emit_locked(event)

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
            self._emit_locked(Log(step_id=self._pending_step, level=self._pending_level, message="\n".join(self._pending_log)))
            self._pending_log = []
        self._last_flush = time.monotonic()

    def _emit_locked(self, event: ExecutionEvent) -> None:
        self._seq += 1
        emit_event(
            event=EVENT_PREFIX + event.type,
            resource={
                "prefect.resource.id": execution_resource_id(self.flow_run_id),
                "prefect.resource.name": self.run_name,
            },
            related=[{"prefect.resource.id": flow_run_resource_id(self.flow_run_id), "prefect.resource.role": "flow-run"}],
            payload={"seq": self._seq, "data": event.wire()},
        )
        if self._node is not None and event.type not in TERMINAL_TYPES:
            # The workflow reports how the node ended itself (node_completed, node_failed).
            self._node.workflow_reporter.report(event.model_copy(update={"node_id": self._node.node_id}))
