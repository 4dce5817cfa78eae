"""What a workflow run did, node by node: kept beside its journal so that rollback, retry and
the history know which runs were its nodes'. Written after every change of a node's state."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from skills.journal import ExecutionJournal, write_atomically

NodeStatus = Literal["pending", "running", "completed", "failed", "skipped", "cancelled", "compensated"]
RECORD_FILENAME = "workflow.json"


class NodeRun(BaseModel):
    status: NodeStatus = "pending"
    kind: Literal["skill", "workflow"] = "skill"
    runs: list[str | None] = Field(default_factory=list)  # the execution id of each item (one without for_each)
    outputs: Any = None
    reason: str | None = None  # why skipped, or what failed


class WorkflowRecord(BaseModel):
    workflow_id: str
    workflow_name: str
    spec: dict[str, Any]
    inputs: dict[str, Any]
    nodes: dict[str, NodeRun]
    completed_order: list[str] = Field(default_factory=list)  # compensation runs it backwards

    @staticmethod
    def file(workspace_root: Path, execution_id: str) -> Path:
        return ExecutionJournal(workspace_root, execution_id).directory / RECORD_FILENAME

    @classmethod
    def load(cls, workspace_root: Path, execution_id: str) -> WorkflowRecord | None:
        path = cls.file(workspace_root, execution_id)
        return cls.model_validate_json(path.read_text()) if path.exists() else None

    def save(self, workspace_root: Path, execution_id: str) -> None:
        path = self.file(workspace_root, execution_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, self.model_dump_json().encode())

    def node_executions(self) -> list[tuple[str, str]]:
        """(node id, execution id) of every node run that changed something, latest first."""
        return [
            (node_id, run)
            for node_id in reversed(self.completed_order)
            for run in reversed(self.nodes[node_id].runs) if run is not None
        ]
