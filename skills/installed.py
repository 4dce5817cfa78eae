"""The installed-skills folder: one folder per marketplace skill, and the record of its install.

``<root>/<skill id>/`` holds ``skill/`` (the package as published, unpacked) and
``install.json`` (what was installed, from where, checked how). Its environments live in
``<root>/.envs/<skill id>-<digest>/``: ``venv/`` (its Python dependencies, when it has any)
and ``node/`` (its npm dependencies, when it has any), made at their final path (a venv
cannot move) before the skill folder is swapped in. Installs are assembled in
``<root>/.staging/`` and renamed into place, so a skill folder is always whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

RECORD_NAME = "install.json"
STAGING_DIRNAME = ".staging"
ENVIRONMENTS_DIRNAME = ".envs"


class InstallRecord(BaseModel):
    """What ``install`` put in a skill's folder, and the checks it passed."""

    skill_id: str
    version: str
    sha256: str
    signature: str
    publisher: str
    key_fingerprint: str
    python: list[str] = Field(default_factory=list)
    npm: list[str] = Field(default_factory=list)
    environment: Path | None = None  # the folder holding venv/ and node/, when it has dependencies
    installed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class InstalledSkillFolder:
    """The paths of one installed skill."""

    def __init__(self, root: Path, skill_id: str) -> None:
        self.path = root / skill_id

    @property
    def skill(self) -> Path:
        return self.path / "skill"

    @property
    def record_path(self) -> Path:
        return self.path / RECORD_NAME

    def record(self) -> InstallRecord | None:
        try:
            return InstallRecord.model_validate_json(self.record_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None


def environment_folder(root: Path, skill_id: str, sha256: str) -> Path:
    """Where the environments of one installed package live (one per package: going back reuses nothing stale)."""
    return root / ENVIRONMENTS_DIRNAME / f"{skill_id}-{sha256[:16]}"


def installed_skill_ids(root: Path) -> list[str]:
    """Ids of the finished installs under ``root`` (staging folders left out)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / RECORD_NAME).is_file())
