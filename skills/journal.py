"""The per-execution journal: a write-ahead record of every change, and its undo.

Each entry is appended (and fsynced) *before* the change it describes is made, so a crash
at any point leaves a journal that undo can replay: an entry whose change never happened
finds nothing to undo. Entries live in ``<workspace>/.skillworks/journal/<id>/``:
``journal.jsonl`` plus ``backups/`` with the old bytes of changed or deleted files.
"""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

JOURNAL_DIRNAME = ".skillworks"

ChangeKind = Literal["create_dir", "create_file", "create_path", "modify_file", "delete_file", "docker_image", "git_commit"]


class JournalEntry(BaseModel):
    """One change: what kind, which path (relative to the workspace), and what undoes it."""

    kind: ChangeKind
    path: str
    sha256: str | None = None  # of the new bytes, to spot later edits
    backup: str | None = None  # file under backups/ holding the old bytes
    mode: int | None = None  # old mode, restored with the old bytes
    resource: str | None = None  # what a change outside the workspace made: a docker_image's id, a git_commit's sha
    step_id: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class ExecutionOwner(BaseModel):
    """The process running an execution, so a restart can tell a live run from an orphan.

    The process's start time tells it apart from a later process that got the same pid.
    """

    hostname: str
    pid: int
    started: int | None = None  # clock ticks after boot, from /proc/<pid>/stat

    @classmethod
    def this_process(cls) -> ExecutionOwner:
        return cls(hostname=socket.gethostname(), pid=os.getpid(), started=_process_start(os.getpid()))

    def is_alive(self) -> bool:
        """Whether the process still runs (on this host: only ask on ``hostname``)."""
        started = _process_start(self.pid)
        return started is not None and (self.started is None or started == self.started)


class UndoReport(BaseModel):
    """What an undo did. It is complete when no conflict is left: ``kept`` folders hold only
    what others put there, which is not the run's to undo."""

    deleted: list[str] = Field(default_factory=list)
    restored: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)  # the run's own changes, still in place
    kept: list[str] = Field(default_factory=list)  # folders the run created, left for what others put in them
    reasons: dict[str, str] = Field(default_factory=dict)  # why each conflict or kept folder was left
    already_undone: bool = False
    undone_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return not self.conflicts


def _process_start(pid: int) -> int | None:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (2nd field) may hold spaces: fields after the last ')' start at the 3rd.
    return int(stat_line.rsplit(")", 1)[1].split()[19])


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ExecutionJournal:
    """Append-only journal of one execution's changes under a workspace root."""

    def __init__(self, workspace_root: Path, execution_id: str) -> None:
        self.workspace_root = workspace_root
        self.execution_id = execution_id
        self.directory = workspace_root / JOURNAL_DIRNAME / "journal" / execution_id
        self.entries_file = self.directory / "journal.jsonl"
        self.undo_report_file = self.directory / "undo.json"  # the last undo's report
        self.owner_file = self.directory / "owner.json"
        self._count: int | None = None

    def record(self, entry: JournalEntry, old_bytes: bytes | None = None) -> None:
        """Make ``entry`` durable (with a backup of ``old_bytes``) before the change happens."""
        (self.directory / "backups").mkdir(parents=True, exist_ok=True)
        if old_bytes is not None:
            entry.backup = f"backups/{self._next_backup_number():06d}"
            write_atomically(self.directory / entry.backup, old_bytes)
        with self.entries_file.open("a", encoding="utf-8") as handle:
            handle.write(entry.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> list[JournalEntry]:
        if not self.entries_file.exists():
            return []
        lines = self.entries_file.read_text(encoding="utf-8").splitlines()
        # A crash mid-append can leave a torn last line: its change never started.
        return [JournalEntry.model_validate_json(line) for line in lines if line.strip().endswith("}")]

    def exists(self) -> bool:
        return self.entries_file.exists()

    def claim(self, owner: ExecutionOwner) -> None:
        write_atomically(self.owner_file, owner.model_dump_json().encode())

    def owner(self) -> ExecutionOwner | None:
        if not self.owner_file.exists():
            return None
        return ExecutionOwner.model_validate_json(self.owner_file.read_text())

    def last_undo(self) -> UndoReport | None:
        if not self.undo_report_file.exists():
            return None
        return UndoReport.model_validate_json(self.undo_report_file.read_text())

    def undone(self) -> UndoReport | None:
        """The report of the undo that completed, if one did."""
        report = self.last_undo()
        return report if report is not None and report.complete else None

    def undo(self, force: bool = False, keep_for_resume: bool = False) -> UndoReport:
        """Undo every change in reverse order, confined to the workspace: see ``skills.undo``."""
        # Imported here: skills.undo builds on this module's types.
        from skills.undo import undo_journal

        return undo_journal(self, force, keep_for_resume)

    def stashed(self, index: int) -> Path:
        """Where ``undo(keep_for_resume=True)`` moved what entry ``index`` wrote."""
        return self.directory / "stash" / f"{index:06d}"

    def _next_backup_number(self) -> int:
        if self._count is None:
            self._count = len(self.entries())
        self._count += 1
        return self._count - 1


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so readers see the old bytes or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.skillworks-tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
