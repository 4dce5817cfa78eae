"""Building skill packages as a publisher would (or as an attacker would), and publishing them over HTTP."""

from __future__ import annotations

import io
import tarfile
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from skills.marketplace.packing import pack_skill_folder
from skills.marketplace.scaffold import scaffold_skill
from skills.marketplace.signing import PublisherKey, package_digest


def skill_folder(parent: Path, skill_id: str, version: str = "1.0.0", *, steps: str | None = None,
                 front: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> Path:
    """A folder made by ``skillworks new``, then changed: SKILL.md front matter merged, steps.py and files replaced."""
    folder = scaffold_skill(skill_id, parent)
    skill_md = (folder / "SKILL.md").read_text()
    _, raw_front, body = skill_md.split("---", 2)
    merged = {**yaml.safe_load(raw_front), "version": version, **(front or {})}
    (folder / "SKILL.md").write_text(f"---\n{yaml.safe_dump(merged, sort_keys=False)}---{body}")
    if steps is not None:
        (folder / "steps.py").write_text(textwrap.dedent(steps).lstrip())
    for name, content in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(content).lstrip())
    return folder


def tar_gz(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A .tar.gz of crafted members (links, devices, odd names): what a hostile uploader sends."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def folder_entries(folder: Path, prefix: str = "") -> list[tuple[tarfile.TarInfo, bytes | None]]:
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        entries.append((tarfile.TarInfo(prefix + path.relative_to(folder).as_posix()), path.read_bytes()))
    return entries


def zip_bytes(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


@dataclass
class Publisher:
    """A marketplace account with its token and its own signing key."""

    base: str
    token: str
    key: PublisherKey = field(default_factory=PublisherKey.generate)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def upload(self, archive: bytes, signature: str | None = None, key: PublisherKey | None = None) -> httpx.Response:
        signer = key or self.key
        return httpx.post(
            f"{self.base}/api/marketplace/skills", headers=self.headers, timeout=300,
            files={"package": ("skill.tar.gz", archive, "application/gzip")},
            data={"signature": signature or signer.sign(package_digest(archive)), "publicKey": signer.public_key_b64},
        )

    def publish(self, folder: Path) -> httpx.Response:
        return self.upload(pack_skill_folder(folder))


def create_account(base: str, admin_token: str, name: str, role: str) -> Publisher:
    response = httpx.post(f"{base}/api/marketplace/tokens", json={"name": name, "role": role},
                          headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code == 201, response.text
    return Publisher(base, response.json()["token"])
