"""The skill folders registered with ``skillworks dev``: a JSON list in the skillworks home.

Every skillworks process on the machine reads the same list (the facade lists the skills,
the serving process runs them) and watches it, so a folder added or removed shows up in
each without a restart.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from skills.errors import UserMessageError


class DevFolderRefused(UserMessageError):
    """A folder that cannot be registered for ``skillworks dev``."""


class DevFolders:
    """The registry file: ``<home>/dev/folders.json``."""

    def __init__(self, home: Path) -> None:
        self.folder = home / "dev"
        self.path = self.folder / "folders.json"

    def read(self) -> tuple[Path, ...]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return ()
        return tuple(Path(entry) for entry in entries if isinstance(entry, str))

    def add(self, folder: Path) -> Path:
        folder = folder.expanduser().resolve()
        if not (folder / "SKILL.md").is_file() and not any(folder.glob("*/SKILL.md")):
            raise DevFolderRefused(
                f"{folder} holds no SKILL.md (nor do its subfolders).",
                ["Give a skill folder, or a folder of skill folders; `skillworks new NAME` makes one."],
                field="folder",
            )
        current = self.read()
        if folder not in current:
            self._write((*current, folder))
        return folder

    def remove(self, folder: Path) -> bool:
        folder = folder.expanduser().resolve()
        current = self.read()
        if folder not in current:
            return False
        self._write(tuple(f for f in current if f != folder))
        return True

    def _write(self, folders: tuple[Path, ...]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".folders-")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump([str(f) for f in folders], handle, indent=2)
        os.replace(temporary, self.path)
