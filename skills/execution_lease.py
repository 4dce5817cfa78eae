"""Which executions still have a live process, told by the kernel, from any machine sharing the workspace.

A process executing a run holds an ``flock`` on ``<workspace>/.skillworks/leases/<id>.lock``
from the moment it takes the run until Prefect has recorded the run's end. The kernel (or,
on a network volume, the file server) releases the lock when that process dies, ``kill -9``
and a lost machine included, so anyone sharing the workspace can tell an abandoned run from
a live one without knowing where it ran: if the lock can be taken, nobody holds the run.

The lease file appears already locked (it is locked under a temporary name, then renamed into
place), so a file that can be locked is never one whose owner is just starting.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skills.journal import JOURNAL_DIRNAME


def lease_path(workspace_root: Path, execution_id: str) -> Path:
    return workspace_root / JOURNAL_DIRNAME / "leases" / f"{execution_id}.lock"


@contextmanager
def execution_lease(workspace_root: Path, execution_id: str, holder: str) -> Iterator[None]:
    """Hold the lease of ``execution_id`` for the ``with`` block; ``holder`` says who (host:pid)."""
    path = lease_path(workspace_root, execution_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.pwrite(descriptor, holder.encode(), 0)
        os.replace(temporary, path)
        yield
    finally:
        # Removed while still locked: a reader that opened it just before sees a lock, then a
        # run Prefect has seen end.
        for leftover in (temporary, path):
            leftover.unlink(missing_ok=True)
        os.close(descriptor)


def leased_executions(workspace_root: Path) -> list[str]:
    """Ids of the executions that have a lease file (held or abandoned)."""
    folder = workspace_root / JOURNAL_DIRNAME / "leases"
    if not folder.is_dir():
        return []
    return [entry.name.removesuffix(".lock") for entry in folder.iterdir() if entry.name.endswith(".lock")
            and not entry.name.startswith(".")]


@contextmanager
def abandoned_lease(workspace_root: Path, execution_id: str) -> Iterator[str | None]:
    """Take the lease of ``execution_id`` if its holder is gone: yields the old holder, or None
    when the lease is held (or absent). The lease file is removed when the block ends."""
    path = lease_path(workspace_root, execution_id)
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        holder = os.pread(descriptor, 200, 0).decode(errors="replace").strip()
        yield holder or "unknown"
        path.unlink(missing_ok=True)
    finally:
        os.close(descriptor)
