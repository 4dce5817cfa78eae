"""File permissions that expose a project: world-writable files, executable data, readable private keys."""

from __future__ import annotations

import stat
from pathlib import Path

from skills.audit.findings import Finding
from skills.audit.project_files import project_files

# Files that are read, never run: an executable bit on them is a mistake or a disguise.
DATA_SUFFIXES = frozenset(
    ".json .yaml .yml .toml .ini .cfg .conf .env .txt .md .rst .csv .tsv .xml .html .css .svg "
    ".png .jpg .jpeg .gif .ico .webp .pdf .lock .pem .key .crt .cer .sql .log".split()
)
PRIVATE_KEY_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
KEYSTORE_SUFFIXES = frozenset({".p12", ".pfx"})
_PRIVATE_KEY_MARKER = b"PRIVATE KEY-----"


def check_permissions(root: Path) -> list[Finding]:
    """Every permission problem under ``root``, in path order."""
    findings: list[Finding] = []
    for relative in project_files(root):
        path = root / relative
        mode = path.stat().st_mode
        octal = f"{stat.S_IMODE(mode):04o}"
        if mode & stat.S_IWOTH:
            findings.append(Finding(
                category="permission", rule="world-writable", severity="high", path=relative,
                title=f"{relative} is writable by every user ({octal})",
                fix=f"chmod o-w {relative}", details={"mode": octal},
            ))
        if is_private_key(path) and mode & (stat.S_IRGRP | stat.S_IROTH):
            findings.append(Finding(
                category="permission", rule="private-key-readable", severity="high", path=relative,
                title=f"private key {relative} is readable by other users ({octal})",
                fix=f"chmod 600 {relative}, and keep private keys out of the project folder", details={"mode": octal},
            ))
        if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) and _is_data_file(path):
            findings.append(Finding(
                category="permission", rule="executable-data-file", severity="low", path=relative,
                title=f"data file {relative} is executable ({octal})",
                fix=f"chmod a-x {relative}", details={"mode": octal},
            ))
    return findings


def is_private_key(path: Path) -> bool:
    """A key file by its name (``id_rsa``, ``.p12``), or any file whose start holds a PEM private key."""
    if path.name in PRIVATE_KEY_NAMES or path.suffix in KEYSTORE_SUFFIXES:
        return True
    with path.open("rb") as handle:
        return _PRIVATE_KEY_MARKER in handle.read(4096)


def _is_data_file(path: Path) -> bool:
    if path.suffix.lower() not in DATA_SUFFIXES:
        return False
    with path.open("rb") as handle:
        return handle.read(2) != b"#!"  # a script with a data-like name still runs as one
