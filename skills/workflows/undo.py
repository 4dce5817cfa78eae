"""Undoing an execution, skill or workflow: a workflow's is its nodes' undone in reverse order.

A workflow run's own journal folder holds no changes of its own, only its record and, once
undone, the combined report (so the history shows it rolled back, and undoing it again
changes nothing, as for a skill).
"""

from __future__ import annotations

import fcntl
from datetime import datetime, timezone
from pathlib import Path

from skills.journal import ExecutionJournal, UndoReport, write_atomically
from skills.workflows.record import WorkflowRecord


def undo_execution(workspace_root: Path, execution_id: str, force: bool = False, keep_for_resume: bool = False) -> UndoReport:
    record = WorkflowRecord.load(workspace_root, execution_id)
    journal = ExecutionJournal(workspace_root, execution_id)
    if record is None:
        return journal.undo(force=force, keep_for_resume=keep_for_resume)
    with (journal.directory / "undo.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = journal.undone()
        if previous is not None:
            return previous.model_copy(update={"already_undone": True})
        report = UndoReport()
        for _, node_execution in record.node_executions():
            part = undo_execution(workspace_root, node_execution, force, keep_for_resume)
            for name in ("deleted", "restored", "conflicts", "kept"):
                getattr(report, name).extend(getattr(part, name))
            report.reasons.update(part.reasons)
        report.undone_at = datetime.now(timezone.utc)
        write_atomically(journal.undo_report_file, report.model_dump_json().encode())
        return report


def has_changes(workspace_root: Path, execution_id: str) -> bool:
    """Whether there is anything to undo: a skill run's journal, or a workflow's record."""
    return ExecutionJournal(workspace_root, execution_id).exists() or WorkflowRecord.load(workspace_root, execution_id) is not None
