"""``/api/marketplace/skills/{id}/install`` and friends: install, upgrade (or go back), uninstall,
and the list of installed skills.

Installing puts someone else's code on this machine (it runs only sandboxed, but it is there):
only an admin may (the ``SKILLWORKS_API_TOKEN``, or any caller of an open facade on 127.0.0.1).
The catalog is reloaded before answering, so the skill is listed by the time the call returns;
the serving process picks it up by watching the installed-skills folder.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam
from pydantic import Field

from blocks.settings import download_cache, installed_skills_root
from service.deps import LiveCatalogDep
from service.errors import ApiError
from service.marketplace_deps import CallerDep, MarketplaceDep, marketplace_caller
from skills.errors import UserMessageError
from skills.installer.conflicts import ConflictsFound, InvalidDependency
from skills.installer.environments import EnvironmentBuildFailed
from skills.installer.install import InstallRefused, InstallReport, NotInstalled, SkillInstaller, UninstallReport
from skills.live_catalog import LiveCatalog
from skills.marketplace.identity import Caller
from skills.planning import WireModel

router = APIRouter(prefix="/api/marketplace", tags=["installs"], dependencies=[Depends(marketplace_caller)])
SkillId = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]


class InstallRequest(WireModel):
    version: str | None = Field(default=None, max_length=64, description="An active version; default: the newest active one.")


class InstalledSkillView(WireModel):
    skill_id: str
    version: str
    sha256: str
    publisher: str
    key_fingerprint: str
    python: list[str]
    npm: list[str]
    installed_at: str


class InstalledList(WireModel):
    skills: list[InstalledSkillView]
    count: int


def _installer() -> SkillInstaller:
    return SkillInstaller(installed_skills_root(), download_cache())


@router.post("/skills/{skill_id}/install", response_model=InstallReport, status_code=201)
def install_skill(
    skill_id: SkillId, market: MarketplaceDep, caller: CallerDep, live: LiveCatalogDep, request: InstallRequest | None = None,
) -> InstallReport:
    """Install an active version (digest and signature checked, conflicts refused first) with its own environments."""
    return _install(skill_id, (request or InstallRequest()).version, market, caller, live)


@router.post("/skills/{skill_id}/upgrade", response_model=InstallReport)
def upgrade_skill(
    skill_id: SkillId, market: MarketplaceDep, caller: CallerDep, live: LiveCatalogDep, request: InstallRequest | None = None,
) -> InstallReport:
    """Move an installed skill to the newest active version, or to ``version`` (an older one goes back)."""
    version = (request or InstallRequest()).version
    installed = next((s.record for s in _installer().installed() if s.record.skill_id == skill_id), None)
    if installed is None:
        raise _answer(NotInstalled(skill_id), 404, "not_installed")
    if version is None and market.skill(skill_id).installable_version == installed.version:
        raise ApiError(409, "up_to_date", f"{skill_id} {installed.version} is the newest active version.")
    return _install(skill_id, version, market, caller, live)


@router.delete("/skills/{skill_id}/install", response_model=UninstallReport)
def uninstall_skill(skill_id: SkillId, caller: CallerDep, live: LiveCatalogDep) -> UninstallReport:
    """Remove the skill, its environments and its deployment (the serving process drops it)."""
    caller.require("admin")
    try:
        report = _installer().uninstall(skill_id)
    except NotInstalled as missing:
        raise _answer(missing, 404, "not_installed") from None
    live.reload()
    return report


@router.get("/installed", response_model=InstalledList)
def installed_skills() -> InstalledList:
    """The installed marketplace skills, with what their install checked."""
    views = [
        InstalledSkillView(**s.record.model_dump(include={"skill_id", "version", "sha256", "publisher", "key_fingerprint", "python", "npm"}),
                           installed_at=s.record.installed_at.isoformat())
        for s in _installer().installed()
    ]
    return InstalledList(skills=views, count=len(views))


def _install(skill_id: str, version: str | None, market: MarketplaceDep, caller: Caller, live: LiveCatalog) -> InstallReport:
    caller.require("admin")
    package = market.installable(skill_id, version)
    reserved = {s.id for s in live.current.all() if not (s.origin and s.origin.source == "installed")}
    try:
        report = _installer().install(package, reserved)
    except ConflictsFound as conflicts:
        details = [{"skill": c.skill, "wants": c.wanted, "other": c.other, "holds": c.held} for c in conflicts.conflicts]
        raise _answer(conflicts, 409, "dependency_conflict", {"conflicts": details}) from None
    except InstallRefused as refused:
        raise _answer(refused, 422, "install_refused") from None
    except (InvalidDependency, EnvironmentBuildFailed) as failed:
        raise _answer(failed, 422, "dependencies_failed") from None
    live.reload()
    return report


def _answer(error: UserMessageError, status: int, code: str, extra: dict | None = None) -> ApiError:
    return ApiError(status, code, error.message, {"suggestions": error.suggestions, **(extra or {})})
