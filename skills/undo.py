"""Undoing an execution's journal without ever reaching outside the workspace.

Every path is walked through ``ConfinedRoot``: a folder on the way that is now a symlink
stops the undo of that entry (it is reported as a conflict), it is never followed. The
rules, the same for a person's rollback, the crash trigger and a failed run's own undo:

- a file the run created is deleted if its bytes are still the run's (``force``: even if
  edited since); a modified or deleted file gets its old bytes and mode back under the
  same condition;
- a folder the run created is removed only once empty: whatever is left in it was put
  there by someone else and is kept, with the folder (``kept``, not a conflict: the run's
  own work is undone) — ``force`` does not change that;
- a path a command was recorded creating (``node_modules``, ``.git``) is removed whole,
  descriptor by descriptor, never following a link inside it;
- a symlink found where the run left a file or folder is someone else's: it is a conflict,
  and with ``force`` the link itself (never its target) is removed.

``force`` overrides edits made inside the workspace; nothing overrides the confinement.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from skills.confined import ConfinedRoot, descriptor_path
from skills.errors import CommandFailedError, PathOutsideWorkspaceError
from skills.journal import ExecutionJournal, JournalEntry, UndoReport, sha256_of, write_atomically

EDITED = "edited since the run"
SYMLINK = "replaced by a symlink since the run"
FOREIGN = "holds files the run did not create"
NOT_A_FILE = "is no longer a regular file"
OCCUPIED = "something else is there now"


def undo_journal(journal: ExecutionJournal, force: bool = False, keep_for_resume: bool = False) -> UndoReport:
    """Undo every change of ``journal`` in reverse order (see the module's rules).

    Idempotent, and safe to call from several processes at once: the undo holds a lock on
    the journal, and once an undo completed, another one changes nothing and says so. An
    undo that kept conflicts can be repeated (with ``force``) to finish the job. With
    ``keep_for_resume`` what the run wrote is moved into the journal's ``stash/`` instead
    of deleted, so a retry can put it back (see ``skills.resume``).
    """
    journal.directory.mkdir(parents=True, exist_ok=True)
    with (journal.directory / "undo.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        previous = journal.undone()
        if previous is not None:
            return previous.model_copy(update={"already_undone": True})
        report = _JournalUndo(journal, force, keep_for_resume).run()
        write_atomically(journal.undo_report_file, report.model_dump_json().encode())
        return report


class _JournalUndo:
    def __init__(self, journal: ExecutionJournal, force: bool, keep_for_resume: bool) -> None:
        self.journal = journal
        self.root = ConfinedRoot(journal.workspace_root)
        self.force = force
        self.keep_for_resume = keep_for_resume
        self.report = UndoReport()

    def run(self) -> UndoReport:
        entries = self.journal.entries()
        for index in reversed(range(len(entries))):
            entry = entries[index]
            try:
                self._undo(index, entry)
            except PathOutsideWorkspaceError as refused:
                self._keep(entry.path, refused.message)
            except NotADirectoryError:
                self._keep(entry.path, "a folder on its way is no longer a folder")
            except FileNotFoundError:
                self._keep(entry.path, "moved or removed while the undo ran; undo again to finish")
        self.report.undone_at = datetime.now(timezone.utc)
        return self.report

    def _undo(self, index: int, entry: JournalEntry) -> None:
        if entry.kind in ("create_file", "modify_file"):
            self.root.remove_unfinished_write(entry.path)  # the run died between journaling and renaming
        if entry.kind == "docker_image":
            _undo_docker_image(entry, self.report)
        elif entry.kind == "git_commit":
            self._undo_git_commit(entry)
        elif self.keep_for_resume and self._set_aside(index, entry) and entry.kind != "modify_file":
            self.report.deleted.append(entry.path)  # moved into the stash: gone from the workspace
        else:
            self._undo_by_kind[entry.kind](self, entry)

    def _undo_created_file(self, entry: JournalEntry) -> None:
        found = self.root.lstat(entry.path)
        if found is None:
            return
        if self._is_foreign_link(entry, found) or not self._may_replace(entry, found):
            return
        self.root.unlink(entry.path)
        self.report.deleted.append(entry.path)

    def _undo_changed_file(self, entry: JournalEntry) -> None:
        """A modified file gets its old bytes back; a deleted one too, if nothing took its place."""
        found = self.root.lstat(entry.path)
        if found is not None and self._already_restored(entry, found):
            return
        if entry.kind == "delete_file" and found is not None and not self.force:
            self._keep(entry.path, OCCUPIED)
            return
        if found is not None and not stat.S_ISLNK(found.st_mode) and not self._may_replace(entry, found):
            return
        if found is not None and stat.S_ISLNK(found.st_mode) and not self.force:
            self._keep(entry.path, SYMLINK)
            return
        self._restore(entry)

    def _undo_created_folder(self, entry: JournalEntry) -> None:
        found = self.root.lstat(entry.path)
        if found is None or self._is_foreign_link(entry, found):
            return
        if not stat.S_ISDIR(found.st_mode):
            self._keep(entry.path, "is no longer a folder")
        elif self.root.remove_empty_folder(entry.path):
            self.report.deleted.append(entry.path)
        elif any(conflict.startswith(entry.path + "/") for conflict in self.report.conflicts):
            self._keep(entry.path, "holds files of the run that were kept")
        else:
            self.report.kept.append(entry.path)
            self.report.reasons[entry.path] = FOREIGN

    def _undo_command_path(self, entry: JournalEntry) -> None:
        found = self.root.lstat(entry.path)
        if found is None:
            return
        if stat.S_ISDIR(found.st_mode):
            self.root.remove_tree(entry.path)
        else:
            self.root.unlink(entry.path)  # a file, or a link (the link goes, never its target)
        self.report.deleted.append(entry.path)

    _undo_by_kind: dict[str, Callable[[_JournalUndo, JournalEntry], None]] = {
        "create_file": _undo_created_file,
        "modify_file": _undo_changed_file,
        "delete_file": _undo_changed_file,
        "create_dir": _undo_created_folder,
        "create_path": _undo_command_path,
    }

    def _undo_git_commit(self, entry: JournalEntry) -> None:
        label = f"git commit {(entry.resource or '')[:12]} in {Path(entry.path).name}"
        if self.root.lstat(f"{entry.path}/.git") is None:
            return  # the repository itself was created by the execution and is gone already
        # Imported here: the journal's undo must not need git unless a run committed.
        from skills.git import undo_commit

        with self.root.open_folder(entry.path) as folder:
            try:
                outcome = undo_commit(descriptor_path(folder), entry.resource or "")
            except CommandFailedError:
                self._keep(label, "the revert conflicts with later work")
                return
        if outcome != "already undone":
            self.report.restored.append(label)

    def _is_foreign_link(self, entry: JournalEntry, found: os.stat_result) -> bool:
        """Whether a symlink sits where the run left a file or folder (then handled here)."""
        if not stat.S_ISLNK(found.st_mode):
            return False
        if self.force:
            self.root.unlink(entry.path)
            self.report.deleted.append(entry.path)
        else:
            self._keep(entry.path, SYMLINK)
        return True

    def _may_replace(self, entry: JournalEntry, found: os.stat_result) -> bool:
        """Whether the regular file at ``entry.path`` may be deleted or overwritten (else kept)."""
        if not stat.S_ISREG(found.st_mode):
            self._keep(entry.path, NOT_A_FILE)
            return False
        if entry.sha256 is None or self.force or sha256_of(self.root.read_bytes(entry.path)) == entry.sha256:
            return True
        self._keep(entry.path, EDITED)
        return False

    def _already_restored(self, entry: JournalEntry, found: os.stat_result) -> bool:
        return (
            entry.backup is not None
            and stat.S_ISREG(found.st_mode)
            and self.root.read_bytes(entry.path) == (self.journal.directory / entry.backup).read_bytes()
        )

    def _restore(self, entry: JournalEntry) -> None:
        if entry.backup is None:
            return
        old_bytes = (self.journal.directory / entry.backup).read_bytes()
        self.root.write_atomically(entry.path, old_bytes, mode=entry.mode, make_parents=True)
        self.report.restored.append(entry.path)

    def _set_aside(self, index: int, entry: JournalEntry) -> bool:
        """Keep what entry ``index`` wrote in the stash; True if there was something to keep."""
        if entry.kind not in ("create_file", "create_path", "modify_file"):
            return False
        found = self.root.lstat(entry.path)
        if found is None or stat.S_ISLNK(found.st_mode) or (entry.kind != "create_path" and not stat.S_ISREG(found.st_mode)):
            return False
        stash = self.journal.stashed(index)
        stash.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "modify_file":
            write_atomically(stash, self.root.read_bytes(entry.path))  # the backup is restored over it
            if found.st_mode & stat.S_IXUSR:
                os.chmod(stash, 0o755)
        else:
            self.root.move_out(entry.path, stash)  # a rename: node_modules moves in no time
        return True

    def _keep(self, path: str, reason: str) -> None:
        self.report.conflicts.append(path)
        self.report.reasons[path] = reason


def _undo_docker_image(entry: JournalEntry, report: UndoReport) -> None:
    # Imported here: only undoing an image build needs the Docker SDK and an engine.
    from skills.docker_engine import DockerEngineError, remove_image

    label = f"docker image {entry.resource}"
    try:
        removed = remove_image(entry.resource or "")
    except DockerEngineError:
        report.conflicts.append(label)  # kept for now: a later undo tries again
        report.reasons[label] = "the Docker engine did not answer"
        return
    if removed:
        report.deleted.append(label)
