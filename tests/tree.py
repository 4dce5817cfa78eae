"""A fingerprint of a folder tree (paths, modes, bytes) to prove a rollback restored it exactly."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from skills.journal import JOURNAL_DIRNAME


def tree_fingerprint(root: Path) -> dict[str, str]:
    """``{relative path: "mode sha256"}`` for every entry under ``root`` except the journal."""
    fingerprint: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(folder) == root and d == JOURNAL_DIRNAME)]
        for name in [*dirs, *files]:
            path = Path(folder, name)
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                content = "-> " + os.readlink(path)
            else:
                content = "dir"
            fingerprint[path.relative_to(root).as_posix()] = f"{stat.S_IMODE(info.st_mode):o} {content}"
    return fingerprint
