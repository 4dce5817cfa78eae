"""File operations under a root that no symlink can redirect, planted before or swapped in during.

Checking a path with ``resolve()`` and then using it leaves a window: between the check and
the use, a folder on the way can be replaced by a symlink to anywhere, and the use follows
it. ``ConfinedRoot`` closes the window the way ``openat`` walking does: it opens the root,
then each component of the path relative to the folder opened before, with ``O_NOFOLLOW``,
and acts on the last component through that folder's descriptor (``unlinkat``, ``renameat``,
``mkdirat``...). Whatever is swapped in meanwhile, the operation lands in the folder that
was really walked, or fails. Symlinks themselves are never followed: an operation on a path
whose last component is a link sees the link (``lstat``), not its target.

Both the workspace's writes and the journal's undo go through it, so rollback is held to
the same confinement as the run that made the changes.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from skills.errors import PathOutsideWorkspaceError

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TEMPORARY_SUFFIX = ".skillworks-tmp"


class ConfinedRoot:
    """Operations on paths relative to ``root`` (POSIX, no ``..``), never leaving it.

    Every method raises ``PathOutsideWorkspaceError`` when a folder on the way is a symlink
    or not a folder, and the usual ``OSError`` subclasses (``FileNotFoundError``...) otherwise.

    >>> import tempfile
    >>> root = ConfinedRoot(Path(tempfile.mkdtemp()))
    >>> root.write_atomically("a/b.txt", b"hi", make_parents=True)
    >>> root.read_bytes("a/b.txt")
    b'hi'
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    @contextmanager
    def folder_of(self, relative: str, make_parents: bool = False) -> Iterator[tuple[int, str]]:
        """The descriptor of the folder holding ``relative`` and the name of its last component."""
        parts = _parts(relative)
        descriptor = os.open(self.root, _DIRECTORY_FLAGS)
        try:
            for index, part in enumerate(parts[:-1]):
                child = _open_or_make_folder(descriptor, part, "/".join(parts[: index + 1]), relative, make_parents)
                os.close(descriptor)
                descriptor = child
            yield descriptor, parts[-1]
        finally:
            os.close(descriptor)

    @contextmanager
    def open_folder(self, relative: str) -> Iterator[int]:
        """A descriptor of the folder ``relative`` itself (``"."`` is the root)."""
        if relative in ("", "."):
            descriptor = os.open(self.root, _DIRECTORY_FLAGS)
        else:
            with self.folder_of(relative) as (parent, name):
                descriptor = _open_child_folder(parent, name, relative, relative)
        try:
            yield descriptor
        finally:
            os.close(descriptor)

    def lstat(self, relative: str) -> os.stat_result | None:
        """The entry's own status (a link is a link), or None if it or a folder on the way is missing."""
        try:
            with self.folder_of(relative) as (parent, name):
                return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_bytes(self, relative: str) -> bytes:
        """The bytes of a regular file; a symlink in its place is refused, not followed."""
        with self.folder_of(relative) as (parent, name):
            try:
                descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise PathOutsideWorkspaceError(relative, "it is a symlink") from None
                raise
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read()

    def write_atomically(self, relative: str, data: bytes, mode: int | None = None, make_parents: bool = False) -> None:
        """Write a temp file beside the target and rename it over; a link in the way is replaced, not followed."""
        with self.folder_of(relative, make_parents) as (parent, name):
            temporary = f".{name}{_TEMPORARY_SUFFIX}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            descriptor = os.open(temporary, flags, 0o666 if mode is None else mode, dir_fd=parent)
            try:
                with os.fdopen(descriptor, "wb", closefd=False) as handle:
                    handle.write(data)
                    handle.flush()
                    if mode is not None:
                        os.fchmod(descriptor, mode)  # the umask narrowed the mode given to open
                    os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temporary, name, src_dir_fd=parent, dst_dir_fd=parent)

    def remove_unfinished_write(self, relative: str) -> bool:
        """Remove the temp file a ``write_atomically`` of ``relative`` left when its process died."""
        try:
            with self.folder_of(relative) as (parent, name):
                os.unlink(f".{name}{_TEMPORARY_SUFFIX}", dir_fd=parent)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def make_folder(self, relative: str) -> None:
        with self.folder_of(relative) as (parent, name):
            os.mkdir(name, dir_fd=parent)

    def chmod(self, relative: str, mode: int) -> None:
        """Change a regular file's mode (Linux has no ``lchmod``: the file is opened without following)."""
        with self.folder_of(relative) as (parent, name):
            descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            try:
                os.fchmod(descriptor, mode)
            finally:
                os.close(descriptor)

    def unlink(self, relative: str) -> None:
        """Remove a file or a link (never what a link points to)."""
        with self.folder_of(relative) as (parent, name):
            os.unlink(name, dir_fd=parent)

    def remove_empty_folder(self, relative: str) -> bool:
        """Remove a folder if it is empty; False if it still holds something."""
        with self.folder_of(relative) as (parent, name):
            try:
                os.rmdir(name, dir_fd=parent)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return False
                raise
        return True

    def remove_tree(self, relative: str) -> None:
        """Remove a folder and everything in it, descriptor by descriptor.

        ``shutil.rmtree`` with ``dir_fd`` walks with ``openat`` and checks each folder it
        enters is the one it listed, so links inside are removed, never followed.
        """
        with self.folder_of(relative) as (parent, name):
            shutil.rmtree(name, dir_fd=parent)

    def move_out(self, relative: str, destination: Path) -> None:
        """Rename the entry to ``destination`` (an absolute path on the same file system)."""
        with self.folder_of(relative) as (parent, name):
            os.replace(name, destination, src_dir_fd=parent)

    def move_in(self, source: Path, relative: str) -> None:
        """Rename ``source`` (an absolute path) to ``relative``, making missing parent folders."""
        with self.folder_of(relative, make_parents=True) as (parent, name):
            os.replace(source, name, dst_dir_fd=parent)


def descriptor_path(descriptor: int) -> Path:
    """A path naming an open folder itself, for a child process's working directory.

    The kernel resolves ``/proc/<pid>/fd/<n>`` to the folder the descriptor holds, so a
    command started there works in that folder even if its path is swapped meanwhile.
    """
    return Path(f"/proc/{os.getpid()}/fd/{descriptor}")


def _parts(relative: str) -> list[str]:
    parts = [part for part in PurePosixPath(relative).parts if part != "."]
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise PathOutsideWorkspaceError(relative, "it must be a relative path without '..'")
    return parts


def _open_or_make_folder(parent: int, name: str, walked: str, relative: str, make: bool) -> int:
    try:
        return _open_child_folder(parent, name, walked, relative)
    except FileNotFoundError:
        if not make:
            raise
    try:
        os.mkdir(name, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile: open what is there, with the same checks
    return _open_child_folder(parent, name, walked, relative)


def _open_child_folder(parent: int, name: str, walked: str, relative: str) -> int:
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
    info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        raise PathOutsideWorkspaceError(relative, f"{walked!r} is a symlink, and symlinks are not followed")
    raise NotADirectoryError(errno.ENOTDIR, f"{walked!r} is not a folder", relative)
