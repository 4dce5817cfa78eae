"""Where a skill in the catalog comes from, and how far it is trusted.

Built-in skills ship with skillworks; ``local`` ones are folders the operator names in
``SKILLWORKS_SKILL_FOLDERS`` (trusted like built-ins: they run in-process); ``installed``
ones come from the marketplace (digest and publisher signature checked, active when
installed); ``dev`` ones are folders a skill author works on (``skillworks dev FOLDER``).
Installed and dev skills are third-party code: they run only in the sandbox.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

SkillSource = Literal["builtin", "local", "installed", "dev"]
Trust = Literal["built-in", "operator", "signed", "unsigned"]
SANDBOXED_SOURCES: frozenset[str] = frozenset({"installed", "dev"})
_SKIPPED_PARTS = frozenset({"__pycache__", ".git", "node_modules", ".venv"})


class SkillOrigin(BaseModel):
    """A catalog entry's source, version, trust and digest, and the environment it runs with."""

    model_config = ConfigDict(frozen=True)

    source: SkillSource
    version: str
    trust: Trust
    digest: str  # sha256: of the marketplace package (installed), else of the folder's files
    publisher: str | None = None
    key_fingerprint: str | None = None
    python_environment: Path | None = None  # the skill's own virtual environment
    node_modules: Path | None = None  # the folder its npm dependencies were installed into

    @property
    def sandboxed(self) -> bool:
        """Third-party code: it runs only in the sandbox, never in a skillworks process."""
        return self.source in SANDBOXED_SOURCES


def folder_digest(folder: Path) -> str:
    """sha256 over a skill folder's files (relative path and bytes, in path order).

    >>> import tempfile; f = Path(tempfile.mkdtemp()); _ = (f / "SKILL.md").write_text("x")
    >>> len(folder_digest(f))
    64
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _SKIPPED_PARTS & set(p.relative_to(folder).parts)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
