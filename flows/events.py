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

from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

EVENT_PREFIX = "skillworks.execution."
# Emitted by the rollback flow, not by the run: it has no ``seq`` and is no SSE event of its own.
ROLLBACK_COMPLETED_EVENT = "skillworks.rollback.completed"
TERMINAL_TYPES = frozenset({"complete", "error", "cancelled"})


def execution_resource_id(flow_run_id: UUID | str) -> str:
    return f"{EVENT_PREFIX}{flow_run_id}"


def flow_run_resource_id(flow_run_id: UUID | str) -> str:
    return f"prefect.flow-run.{flow_run_id}"


class ExecutionEvent(BaseModel):
    """One SSE event's data; ``type`` is the class's, the fields go on the wire in camelCase.

    ``node_id`` is set on the events of a workflow's node (its own step events, forwarded
    into the workflow's stream) and left off the wire otherwise, as are the other fields in
    ``omitted_when_none`` (those only a workflow's events carry).
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)
    type: ClassVar[str]
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"node_id"})
    node_id: str | None = None

    def wire(self) -> dict[str, Any]:
        unset = {name for name in self.omitted_when_none if getattr(self, name) is None}
        return {"type": self.type, **self.model_dump(mode="json", exclude=unset)}


class Started(ExecutionEvent):
    type: ClassVar[str] = "started"
    omitted_when_none = frozenset({"node_id", "workflow_id", "workflow_name", "total_nodes", "nodes"})
    execution_id: str
    skill_id: str | None = None
    skill_name: str | None = None
    total_steps: int = 0
    prefect_url: str | None = None
    # A workflow's ``started`` names the workflow and its nodes instead of a skill.
    workflow_id: str | None = None
    workflow_name: str | None = None
    total_nodes: int | None = None
    nodes: list[dict[str, Any]] | None = None


class _Step(ExecutionEvent):
    step_index: int
    step_id: str
    step_name: str


class StepProgress(_Step):
    type: ClassVar[str] = "step_progress"
    progress: int
    status: str = "running"


class StepCompleted(_Step):
    type: ClassVar[str] = "step_completed"
    progress: int
    duration_ms: int
    files_created: int


class StepSkipped(_Step):
    type: ClassVar[str] = "step_skipped"
    reason: str


class StepFailure(_Step):
    type: ClassVar[str] = "step_failed"
    error: str
    critical: bool
    attempt: int
    suggestions: list[str] = Field(default_factory=list)
    diagnosis: dict[str, Any] | None = None


class AwaitingConfirmation(ExecutionEvent):
    """A pause. ``execution_id`` is the run to confirm: in a workflow's stream, a node's run
    (a step pause inside it) or the workflow's own (an approval node)."""

    type: ClassVar[str] = "awaiting_confirmation"
    step_index: int | None = None
    step_name: str | None = None
    warnings: list[str] = Field(default_factory=list)
    execution_id: str | None = None


class Log(ExecutionEvent):
    type: ClassVar[str] = "log"
    step_id: str
    level: str
    message: str


class Complete(ExecutionEvent):
    type: ClassVar[str] = "complete"
    execution_id: str
    duration: str
    rollback_token: str
    files_created: int = 0
    output_path: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)


class Error(ExecutionEvent):
    type: ClassVar[str] = "error"
    omitted_when_none = frozenset({"node_id", "failed_node"})
    execution_id: str
    error: str
    suggestions: list[str] = Field(default_factory=list)
    rolled_back: bool = False
    undone: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    diagnosis: dict[str, Any] | None = None
    failed_node: str | None = None


class Cancelled(ExecutionEvent):
    type: ClassVar[str] = "cancelled"
    execution_id: str
    rolled_back: bool = True
    undone: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)


class NodeStarted(ExecutionEvent):
    type: ClassVar[str] = "node_started"
    execution_id: str
    skill_id: str | None = None
    workflow_id: str | None = None


class NodeCompleted(ExecutionEvent):
    type: ClassVar[str] = "node_completed"
    execution_id: str | None = None
    outputs: Any = None


class NodeSkipped(ExecutionEvent):
    type: ClassVar[str] = "node_skipped"
    reason: str


class NodeFailed(ExecutionEvent):
    type: ClassVar[str] = "node_failed"
    execution_id: str | None = None
    error: str


class Compensating(ExecutionEvent):
    type: ClassVar[str] = "compensating"


class Compensated(ExecutionEvent):
    type: ClassVar[str] = "compensated"
    undone: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)


def sse_data_from_event(event_name: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """``(seq, data)`` for a skillworks execution event, None for any other event."""
    if not event_name.startswith(EVENT_PREFIX) or "seq" not in payload:
        return None
    return int(payload["seq"]), dict(payload.get("data", {}))
