"""One execution at a time per target folder: an exclusive lock held for the whole run.

The lock is an ``flock`` on a file under ``<workspace>/.skillworks/locks/``, so the kernel
releases it when the process holding it dies — a crashed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skills.errors import UserMessageError
from skills.journal import JOURNAL_DIRNAME


class TargetBusyError(UserMessageError):
    def __init__(self, target: str, holder: str) -> None:
        super().__init__(
            f"Another execution ({holder or 'unknown'}) is working in {target!r}.",
            ["Wait for it to finish or cancel it, then run this skill again."],
        )
        self.target = target
        self.holder = holder


@contextmanager
def target_lock(workspace_root: Path, target: str, holder: str) -> Iterator[None]:
    """Hold the lock on ``target`` (workspace-relative) for the ``with`` block, or raise ``TargetBusyError``."""
    folder = workspace_root / JOURNAL_DIRNAME / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(target.encode()).hexdigest()[:32] + ".lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TargetBusyError(target, os.pread(descriptor, 200, 0).decode(errors="replace").strip()) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, holder.encode(), 0)
        yield
    finally:
        os.close(descriptor)
