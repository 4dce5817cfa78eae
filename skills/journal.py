"""The per-execution journal: a write-ahead record of every change, and its undo.

Each entry is appended (and fsynced) *before* the change it describes is made, so a crash
at any point leaves a journal that undo can replay: an entry whose change never happened
finds nothing to undo. Entries live in ``<workspace>/.skillworks/journal/<id>/``:
``journal.jsonl`` plus ``backups/`` with the old bytes of changed or deleted files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from skills.errors import CommandFailedError
from skills.git import undo_commit

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
    """The process running an execution, so a restart can tell a live run from an orphan."""

    hostname: str
    pid: int


class UndoReport(BaseModel):
    """What an undo did; ``conflicts`` are files edited since the execution, kept as they are."""

    deleted: list[str] = Field(default_factory=list)
    restored: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    already_undone: bool = False
    undone_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return not self.conflicts


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
        """Undo every change in reverse order; keep files edited since, unless ``force``.

        Idempotent: once complete, another undo changes nothing and says so. An undo that
        kept conflicts can be repeated (with ``force``) to finish the job. With
        ``keep_for_resume`` what the run wrote is moved into the journal's ``stash/`` instead
        of deleted, so a retry can put it back (see ``skills.resume``).
        """
        previous = self.undone()
        if previous is not None:
            return previous.model_copy(update={"already_undone": True})
        report = UndoReport()
        entries = self.entries()
        for index in reversed(range(len(entries))):
            entry = entries[index]
            if self._is_undone(entry):
                continue
            if keep_for_resume and self._set_aside(index, entry) and entry.kind != "modify_file":
                report.deleted.append(entry.path)  # moved into the stash: gone from the workspace
                continue
            self._undo_entry(entry, force, report)
        report.undone_at = datetime.now(timezone.utc)
        write_atomically(self.undo_report_file, report.model_dump_json().encode())
        return report

    def _is_undone(self, entry: JournalEntry) -> bool:
        """Whether the workspace already shows this entry undone (by an earlier, partial undo)."""
        target = self.workspace_root / entry.path
        if entry.kind in ("create_file", "create_path", "create_dir"):
            return not target.exists() and not target.is_symlink()
        if entry.backup is None or not target.is_file():
            return False
        return target.read_bytes() == (self.directory / entry.backup).read_bytes()

    def stashed(self, index: int) -> Path:
        """Where ``undo(keep_for_resume=True)`` moved what entry ``index`` wrote."""
        return self.directory / "stash" / f"{index:06d}"

    def _set_aside(self, index: int, entry: JournalEntry) -> bool:
        """Keep what entry ``index`` wrote in the stash; True if there was something to keep."""
        target = self.workspace_root / entry.path
        if entry.kind not in ("create_file", "create_path", "modify_file") or not (target.exists() or target.is_symlink()):
            return False
        self.stashed(index).parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "modify_file":
            shutil.copy2(target, self.stashed(index))  # the backup is restored over it next
        else:
            os.replace(target, self.stashed(index))  # a rename: node_modules moves in no time
        return True

    def _undo_entry(self, entry: JournalEntry, force: bool, report: UndoReport) -> None:
        if entry.kind == "docker_image":
            _undo_docker_image(entry, report)
            return
        if entry.kind == "git_commit":
            _undo_git_commit(self.workspace_root / entry.path, entry.resource or "", report)
            return
        target = self.workspace_root / entry.path
        if entry.kind in ("create_file", "modify_file") and not force and _changed_since(target, entry.sha256):
            report.conflicts.append(entry.path)
            return
        if entry.kind in ("create_file", "create_path"):
            if _remove(target, recursive=True):
                report.deleted.append(entry.path)
        elif entry.kind == "create_dir":
            # Whatever is still inside was put there after the execution: keep it, unless forced.
            if _remove(target, recursive=force):
                report.deleted.append(entry.path)
            elif target.exists():
                report.conflicts.append(entry.path)
        elif entry.backup is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, (self.directory / entry.backup).read_bytes())
            if entry.mode is not None:
                os.chmod(target, entry.mode)
            report.restored.append(entry.path)

    def _next_backup_number(self) -> int:
        if self._count is None:
            self._count = len(self.entries())
        self._count += 1
        return self._count - 1


def _undo_docker_image(entry: JournalEntry, report: UndoReport) -> None:
    # Imported here: only undoing an image build needs the Docker SDK and an engine.
    from skills.docker_engine import DockerEngineError, remove_image

    label = f"docker image {entry.resource}"
    try:
        removed = remove_image(entry.resource or "")
    except DockerEngineError:
        report.conflicts.append(label)  # kept for now: a later undo tries again
        return
    if removed:
        report.deleted.append(label)


def _undo_git_commit(repository: Path, commit: str, report: UndoReport) -> None:
    label = f"git commit {commit[:12]} in {repository.name}"
    if not (repository / ".git").exists():
        return  # the repository itself was created by the execution and is gone already
    try:
        outcome = undo_commit(repository, commit)
    except CommandFailedError:
        report.conflicts.append(label)  # the revert conflicts with later work: left to the user
        return
    if outcome != "already undone":
        report.restored.append(label)


def _changed_since(path: Path, expected_sha256: str | None) -> bool:
    if expected_sha256 is None or not path.is_file():
        return False
    return sha256_of(path.read_bytes()) != expected_sha256


def _remove(path: Path, recursive: bool) -> bool:
    if path.is_symlink() or path.is_file():
        path.unlink()
        return True
    if path.is_dir():
        if recursive:
            shutil.rmtree(path)
            return True
        if not any(path.iterdir()):
            path.rmdir()
            return True
    return False


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file and rename, so readers see the old bytes or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.skillworks-tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
