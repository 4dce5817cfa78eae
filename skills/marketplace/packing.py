"""Packing a skill folder into the ``.tar.gz`` a publisher uploads.

Deterministic (sorted names, zeroed times and owners), so the same folder always gives the
same sha256. Only regular files are packed; caches, VCS folders and installed trees are
left out, and a symbolic link is an error rather than silently followed.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from skills.errors import UserMessageError

LEFT_OUT = frozenset({".git", ".hg", "__pycache__", ".pytest_cache", ".venv", "venv", "node_modules", ".mypy_cache", ".ruff_cache"})


def pack_skill_folder(folder: Path) -> bytes:
    if not (folder / "SKILL.md").is_file():
        raise UserMessageError(f"{folder} has no SKILL.md.", ["Publish a skill folder; `skillworks new NAME` makes one."])
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as archive:
        for path in _files(folder):
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            data = path.read_bytes()
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in LEFT_OUT for part in relative.parts) or path.name.endswith(".pyc"):
            continue
        if path.is_symlink():
            raise UserMessageError(f"{relative} is a symbolic link; packages hold regular files only.", ["Replace it with a copy."])
        if path.is_file():
            found.append(path)
    return found
