"""The files of a project an audit looks at, relative to the project folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Installed or generated trees: their contents are audited through the manifests and
# lockfiles that produced them, and walking them would take longer than the audit itself.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".skillworks"})

# What the audit writes into the project; a re-run must not audit its own report.
REPORT_NAMES = ("security-report.md", "security-report.json", "security-report.sarif")


def project_files(root: Path) -> Iterator[str]:
    """Every regular file under ``root`` (symlinks not followed), as sorted POSIX paths.

    >>> list(project_files(Path("/nonexistent")))
    []
    """
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
        folder = Path(directory)
        for name in sorted(names):
            path = folder / name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            if relative not in REPORT_NAMES:
                yield relative


def line_of(text: str, needle: str) -> int | None:
    """The 1-based line where ``needle`` first occurs in ``text``, if it does."""
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1
