"""The workspace: the one door through which a skill touches the file system.

Every path is confined to the workspace root (no ``..``, no absolute paths, no symlink
escapes), every write is atomic (temp file + rename), and every change is journaled
before it is made. Paths are checked when a step names them (for a clear error), and every
read and write walks them again through ``ConfinedRoot``, so a symlink swapped in between
— by a command the run started, say — is refused rather than followed. With ``pretend=True`` (the dry run) the same calls record what *would*
change and keep the would-be bytes in memory, so later steps read what earlier steps
"wrote" and the dry run follows exactly the code path of the real run.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from skills.confined import ConfinedRoot
from skills.errors import PathOutsideWorkspaceError
from skills.journal import JOURNAL_DIRNAME, ExecutionJournal, JournalEntry, sha256_of

FileChangeKind = Literal["create", "modify", "delete"]


@dataclass(frozen=True)
class FileChange:
    """A change a step made (or, in a dry run, would make) to one path."""

    path: str
    kind: FileChangeKind
    step_id: str | None
    is_dir: bool = False


class Workspace:
    """File operations confined to ``root``, journaled to ``journal`` unless pretending."""

    def __init__(self, root: Path, journal: ExecutionJournal | None = None, pretend: bool = False) -> None:
        self.root = root.resolve()
        self.confined = ConfinedRoot(self.root)
        self.journal = journal
        self.pretend = pretend
        self.changes: list[FileChange] = []
        self.current_step: str | None = None
        self._pretend_files: dict[str, bytes | None] = {}  # None marks a pretend-deleted file
        self._pretend_dirs: set[str] = set()
        self._confined: dict[str, str] = {}

    def relative(self, path: str | PurePosixPath) -> str:
        """Normalise ``path`` to a workspace-relative POSIX path, refusing any escape."""
        text = str(path)
        if text not in self._confined:
            # Checking costs a system call per path component, and steps ask about the same
            # paths again and again (exists, write, parents): each is checked once. The
            # reads and writes themselves walk the path again (``ConfinedRoot``).
            self._confined[text] = self._confine(text)
        return self._confined[text]

    def _confine(self, text: str) -> str:
        if "\x00" in text:
            raise PathOutsideWorkspaceError(text, "it contains a NUL byte")
        pure = PurePosixPath(text)
        if pure.is_absolute():
            raise PathOutsideWorkspaceError(text, "absolute paths are not allowed")
        if ".." in pure.parts:
            raise PathOutsideWorkspaceError(text, "'..' is not allowed")
        if pure.parts and pure.parts[0] == JOURNAL_DIRNAME:
            raise PathOutsideWorkspaceError(text, f"{JOURNAL_DIRNAME}/ holds skillworks' own journal")
        self._refuse_symlinks_on_the_way(text, pure)
        return pure.as_posix()

    def _refuse_symlinks_on_the_way(self, text: str, pure: PurePosixPath) -> None:
        """No component may be a symlink, wherever it leads: the writes would refuse it anyway
        (``ConfinedRoot`` never follows one), and the dry run must give the same verdict."""
        current = self.root
        for part in pure.parts:
            current = current / part
            try:
                info = current.lstat()
            except FileNotFoundError:
                return  # nothing further down exists yet
            except OSError as exc:  # a name too long for the file system, a component that is a file...
                raise PathOutsideWorkspaceError(text, exc.strerror or str(exc)) from None
            if stat.S_ISLNK(info.st_mode):
                where = current.relative_to(self.root).as_posix()
                raise PathOutsideWorkspaceError(text, f"{where!r} is a symlink, and symlinks are not followed")

    def path(self, relative: str | PurePosixPath) -> Path:
        """The absolute path for a workspace-relative one (checked)."""
        return self.root / self.relative(relative)

    def exists(self, relative: str) -> bool:
        key = self.relative(relative)
        if key in self._pretend_files:
            return self._pretend_files[key] is not None
        return key in self._pretend_dirs or self._lstat(key) is not None

    def is_dir(self, relative: str) -> bool:
        """A folder, on disk or (pretending) made earlier in this dry run."""
        key = self.relative(relative)
        return key in self._pretend_dirs or self.path(key).is_dir()

    def is_empty_dir_or_missing(self, relative: str) -> bool:
        key = self.relative(relative)
        inside = f"{key}/" if key != "." else ""
        pretended = [path for path, data in self._pretend_files.items() if data is not None and path.startswith(inside)]
        pretended += [path for path in self._pretend_dirs if path.startswith(inside)]
        if pretended:
            return False
        target = self.path(key)
        return not target.exists() or (target.is_dir() and not any(target.iterdir()))

    def _lstat(self, key: str) -> os.stat_result | None:
        return self.confined.lstat(key) if key != "." else self.root.lstat()

    def read_bytes(self, relative: str) -> bytes:
        key = self.relative(relative)
        if key in self._pretend_files:
            data = self._pretend_files[key]
            if data is None:
                raise FileNotFoundError(key)
            return data
        return self.confined.read_bytes(key)

    def read_text(self, relative: str) -> str:
        return self.read_bytes(relative).decode("utf-8")

    def make_dirs(self, relative: str) -> None:
        """Create a folder and its missing parents, journaling each one created."""
        key = self.relative(relative)
        missing = [p for p in [PurePosixPath(key), *PurePosixPath(key).parents] if str(p) != "."]
        for folder in reversed(missing):
            name = folder.as_posix()
            if self.exists(name):
                continue
            self._note(FileChange(name, "create", self.current_step, is_dir=True))
            if self.pretend:
                self._pretend_dirs.add(name)
                continue
            self._journal(JournalEntry(kind="create_dir", path=name, step_id=self.current_step))
            self.confined.make_folder(name)

    def write_text(self, relative: str, text: str, executable: bool = False) -> None:
        self.write_bytes(relative, text.encode("utf-8"), executable)

    def write_bytes(self, relative: str, data: bytes, executable: bool = False) -> None:
        """Write a file atomically, journaling its creation or its old bytes first."""
        key = self.relative(relative)
        parent = PurePosixPath(key).parent.as_posix()
        if parent != ".":
            self.make_dirs(parent)
        existed = self.exists(key)
        self._note(FileChange(key, "modify" if existed else "create", self.current_step))
        if self.pretend:
            self._pretend_files[key] = data
            return
        mode = 0o755 if executable else None
        if existed:
            old_mode = self.confined.lstat(key).st_mode & 0o7777  # type: ignore[union-attr]
            entry = JournalEntry(
                kind="modify_file", path=key, sha256=sha256_of(data), mode=old_mode, step_id=self.current_step
            )
            self._journal(entry, self.confined.read_bytes(key))
            mode = mode or old_mode
        else:
            self._journal(JournalEntry(kind="create_file", path=key, sha256=sha256_of(data), step_id=self.current_step))
        self.confined.write_atomically(key, data, mode=mode)

    def delete_file(self, relative: str) -> None:
        key = self.relative(relative)
        self._note(FileChange(key, "delete", self.current_step))
        if self.pretend:
            self._pretend_files[key] = None
            return
        old_mode = self.confined.lstat(key).st_mode & 0o7777  # type: ignore[union-attr]
        self._journal(
            JournalEntry(kind="delete_file", path=key, mode=old_mode, step_id=self.current_step),
            self.confined.read_bytes(key),
        )
        self.confined.unlink(key)

    def expect_created(self, relative: str, is_dir: bool) -> None:
        """Journal a path a command is about to create (``node_modules``, ``.git``) so undo removes it."""
        key = self.relative(relative)
        if self.exists(key):
            return
        self._note(FileChange(key, "create", self.current_step, is_dir=is_dir))
        if self.pretend:
            if is_dir:  # later steps (and a workflow's later nodes) see the folder, as on disk
                self._pretend_dirs.add(key)
        else:
            self._journal(JournalEntry(kind="create_path", path=key, step_id=self.current_step))

    def move_in(self, source: Path, relative: str, is_dir: bool) -> None:
        """Move ``source`` (outside the workspace, a retry's stash) to ``relative``, journaled as created."""
        self.expect_created(relative, is_dir)
        if not self.pretend:
            self.confined.move_in(source, self.relative(relative))

    def _note(self, change: FileChange) -> None:
        self.changes.append(change)

    def _journal(self, entry: JournalEntry, old_bytes: bytes | None = None) -> None:
        if self.journal is not None:
            self.journal.record(entry, old_bytes)
