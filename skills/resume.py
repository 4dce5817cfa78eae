"""Resuming a failed execution at the step that failed.

When a run fails, its changes are undone but set aside (``ExecutionJournal.undo(...,
keep_for_resume=True)``), and the journal knows which steps completed and what they
returned. A retry puts the completed steps' work back — through the new run's workspace,
so the new run's journal can undo it too — reuses their outputs, and runs the rest.

A step can be reused only if everything it did can be put back from the stash: files,
folders and command-made trees can; a docker image or a git commit cannot, so such a step
and every step after it run again.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel

from skills.journal import ExecutionJournal, JournalEntry
from skills.workspace import Workspace

_REDOABLE = {"create_dir", "create_file", "create_path", "modify_file", "delete_file"}


class CompletedStep(BaseModel):
    step_id: str
    output: Any = None


def record_completed_step(journal: ExecutionJournal, step_id: str, output: Any) -> None:
    """Note in the journal that ``step_id`` finished, with its (JSON-able) output."""
    journal.directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"step_id": step_id, "output": output}, default=str)
    with (journal.directory / "steps.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def completed_steps(journal: ExecutionJournal) -> list[CompletedStep]:
    path = journal.directory / "steps.jsonl"
    if not path.exists():
        return []
    return [CompletedStep.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]


def reusable_steps(journal: ExecutionJournal, step_order: list[str]) -> list[CompletedStep]:
    """The completed steps, in order, up to the first one that cannot be put back."""
    done = {step.step_id: step for step in completed_steps(journal)}
    entries = journal.entries()
    reusable: list[CompletedStep] = []
    for step_id in step_order:
        if step_id not in done:
            break
        own = [(index, entry) for index, entry in enumerate(entries) if entry.step_id == step_id]
        if not all(_can_put_back(journal, index, entry) for index, entry in own):
            break
        reusable.append(done[step_id])
    return reusable


def put_back(journal: ExecutionJournal, step_ids: set[str], workspace: Workspace) -> None:
    """Redo, through ``workspace`` (and its journal), what the given steps of ``journal`` did."""
    for index, entry in enumerate(journal.entries()):
        if entry.step_id not in step_ids:
            continue
        workspace.current_step = entry.step_id
        stashed = journal.stashed(index)
        if entry.kind == "create_dir":
            workspace.make_dirs(entry.path)
        elif entry.kind in ("create_file", "modify_file"):
            workspace.write_bytes(entry.path, stashed.read_bytes(), executable=os.access(stashed, os.X_OK))
        elif entry.kind == "create_path":
            workspace.move_in(stashed, entry.path, is_dir=stashed.is_dir())
        elif entry.kind == "delete_file":
            workspace.delete_file(entry.path)


def _can_put_back(journal: ExecutionJournal, index: int, entry: JournalEntry) -> bool:
    if entry.kind not in _REDOABLE:
        return False
    if entry.kind in ("create_file", "create_path", "modify_file"):
        return journal.stashed(index).exists() or journal.stashed(index).is_symlink()
    return True
