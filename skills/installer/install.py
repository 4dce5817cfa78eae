"""Install, upgrade (or go back) and uninstall marketplace skills.

An install checks, in this order, before anything is put in place: the package's sha256
against the marketplace's record, the publisher's Ed25519 signature over it, the package
itself (unpacked with the marketplace's own checks), that its SKILL.md is the version asked
for and takes no id another source holds, and every conflict (``conflicts``). Then the
skill's environments are made (``environments``), its install record written, and the
folder renamed into place — replacing the version installed before, whose environments are
then removed. Whatever fails leaves the installed skills as they were.

Example:
    ```python
    installer = SkillInstaller(root, cache)
    report = installer.install(market.installable("my-skill"), reserved_ids={"react-setup"})
    installer.uninstall("my-skill")
    ```
"""

from __future__ import annotations

import ctypes
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel

from skills.definition import SkillDefinition, load_skill_definition
from skills.errors import UserMessageError
from skills.installed import (
    STAGING_DIRNAME,
    InstalledSkillFolder,
    InstallRecord,
    environment_folder,
    installed_skill_ids,
)
from skills.installer.conflicts import (
    ConflictsFound,
    python_requirements,
    shared_tool_conflicts,
    step_api_conflicts,
    step_api_pins,
)
from skills.installer.environments import build_node_modules, build_python_environment
from skills.marketplace.archive import unpack_package
from skills.marketplace.signing import package_digest, verify
from skills.marketplace.views import InstallablePackage
from skills.planning import WireModel


class InstallRefused(UserMessageError):
    """The package failed a check (digest, signature, contents, id); nothing was installed."""


class NotInstalled(UserMessageError):
    def __init__(self, skill_id: str) -> None:
        super().__init__(f"{skill_id} is not installed.", ["See what is: `skillworks installed`."])


class InstallReport(WireModel):
    skill_id: str
    version: str
    previous_version: str | None = None
    sha256: str
    publisher: str
    python: list[str]
    npm: list[str]
    seconds: float


class UninstallReport(WireModel):
    skill_id: str
    version: str
    removed: list[str]


class InstalledSkill(BaseModel):
    record: InstallRecord
    folder: Path


class SkillInstaller:
    """The installed-skills folder ``root``; downloads cached under ``cache``. One change at a time."""

    _lock = threading.Lock()

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        self.cache = cache

    def installed(self) -> list[InstalledSkill]:
        found = []
        for skill_id in installed_skill_ids(self.root):
            folder = InstalledSkillFolder(self.root, skill_id)
            record = folder.record()
            if record is not None:
                found.append(InstalledSkill(record=record, folder=folder.path))
        return found

    def install(self, package: InstallablePackage, reserved_ids: set[str]) -> InstallReport:
        """Check and install ``package``; ``reserved_ids`` are ids other sources hold (built-in, local, dev)."""
        started = time.monotonic()
        self._check_proof(package)
        with self._lock:
            staging = self.root / STAGING_DIRNAME / f"{package.skill_id}-{uuid.uuid4().hex[:8]}"
            environment = environment_folder(self.root, package.skill_id, package.sha256)
            previous = InstalledSkillFolder(self.root, package.skill_id).record()
            try:
                definition = self._unpack(package, staging / "skill", reserved_ids)
                self._refuse_conflicts(definition)
                self._build_environments(definition, environment, previous)
                record = InstallRecord(
                    skill_id=package.skill_id, version=package.version, sha256=package.sha256,
                    signature=package.signature, publisher=package.publisher, key_fingerprint=package.key_fingerprint,
                    python=definition.dependencies.get("python", []), npm=definition.dependencies.get("npm", []),
                    environment=environment if environment.exists() else None,
                )
                (staging / "install.json").write_text(record.model_dump_json(indent=2), encoding="utf-8")
                self._swap_in(staging, package.skill_id)
            except BaseException:
                if previous is None or previous.environment != environment:
                    shutil.rmtree(environment, ignore_errors=True)
                raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                _remove_if_empty(staging.parent)
            if previous is not None and previous.environment and previous.environment != environment:
                shutil.rmtree(previous.environment, ignore_errors=True)
        return InstallReport(
            skill_id=package.skill_id, version=package.version, previous_version=previous.version if previous else None,
            sha256=package.sha256, publisher=package.publisher, python=record.python, npm=record.npm,
            seconds=round(time.monotonic() - started, 3),
        )

    def uninstall(self, skill_id: str) -> UninstallReport:
        """Remove the skill's folder and environments: everything its install added (the download caches stay)."""
        with self._lock:
            installed = InstalledSkillFolder(self.root, skill_id)
            record = installed.record()
            if record is None:
                raise NotInstalled(skill_id)
            removed = [str(installed.path)]
            # Renamed away first: watchers see the skill go at once, and never half of it.
            self._move_to_staging(installed.path, skill_id)
            if record.environment is not None:
                shutil.rmtree(record.environment, ignore_errors=True)
                removed.append(str(record.environment))
            _remove_if_empty(self.root / STAGING_DIRNAME)
        return UninstallReport(skill_id=skill_id, version=record.version, removed=removed)

    def _check_proof(self, package: InstallablePackage) -> None:
        actual = package_digest(package.data)
        if actual != package.sha256:
            raise InstallRefused(
                f"{package.skill_id}@{package.version}: the package's sha256 is {actual}, not {package.sha256} as published.",
                ["The stored package is damaged or was replaced; an admin should rescan or ban it."],
            )
        if not verify(package.public_key, package.sha256, package.signature):
            raise InstallRefused(
                f"{package.skill_id}@{package.version}: the signature does not verify with the key of its publisher "
                f"{package.publisher!r} ({package.key_fingerprint[:16]}…).",
                ["Do not install it; report it to the marketplace's admins."],
            )

    def _unpack(self, package: InstallablePackage, folder: Path, reserved_ids: set[str]) -> SkillDefinition:
        folder.mkdir(parents=True)
        self._cache_package(package)
        unpack_package(package.data, folder)
        definition = load_skill_definition(folder)
        if definition.id != package.skill_id or definition.version != package.version:
            raise InstallRefused(
                f"The package of {package.skill_id}@{package.version} holds {definition.id}@{definition.version}.",
                ["Do not install it; report it to the marketplace's admins."],
            )
        if definition.id in reserved_ids:
            raise InstallRefused(
                f"The id {definition.id!r} is already taken by a built-in, local or dev skill here.",
                ["Remove that skill (or its dev folder) first, or install another skill."],
            )
        return definition

    def _cache_package(self, package: InstallablePackage) -> None:
        cached = self.cache / "packages" / f"{package.sha256}.pkg"
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(package.data)

    def _refuse_conflicts(self, definition: SkillDefinition) -> None:
        others = [load_skill_definition(InstalledSkillFolder(self.root, i).skill) for i in installed_skill_ids(self.root)]
        conflicts = step_api_conflicts(definition, step_api_pins()) + shared_tool_conflicts(definition, others)
        if conflicts:
            raise ConflictsFound(definition.id, conflicts)

    def _build_environments(self, definition: SkillDefinition, environment: Path, previous: InstallRecord | None) -> None:
        python = [str(r) for r in python_requirements(definition)]
        npm = definition.dependencies.get("npm", [])
        if previous is not None and previous.environment == environment:
            return  # the same package again: its environments are there
        shutil.rmtree(environment, ignore_errors=True)
        builds = []
        if python:
            builds.append(lambda: build_python_environment(environment / "venv", python, step_api_pins(), self.cache))
        if npm:
            builds.append(lambda: build_node_modules(environment / "node", npm, self.cache))
        # Side by side: from warm caches each is mostly its tool's start-up, which does not need the other.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for finished in [pool.submit(build) for build in builds]:
                finished.result()  # the first failure is the install's error

    def _swap_in(self, staging: Path, skill_id: str) -> None:
        """Put the new folder in place; the old one (now at ``staging``) is removed by the caller."""
        target = self.root / skill_id
        if target.exists():
            _exchange(staging, target)
        else:
            staging.rename(target)

    def _move_to_staging(self, folder: Path, skill_id: str) -> None:
        away = self.root / STAGING_DIRNAME / f"{skill_id}-old-{uuid.uuid4().hex[:8]}"
        away.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(away)
        shutil.rmtree(away, ignore_errors=True)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another install is assembling there), or already gone


def _exchange(first: Path, second: Path) -> None:
    """Swap two paths in one step (``renameat2(RENAME_EXCHANGE)``), so no watcher ever sees neither."""
    if _libc.renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error), str(first))


_libc = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
