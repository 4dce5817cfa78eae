"""A version's lifecycle: ``untrusted`` until scanned, then what the verdict says
(clean -> ``active``, suspicious -> ``untrusted`` with reasons, malicious -> ``banned``),
or what an admin decided, with who, when and why. Every change is recorded.

An admin's override stands through later rescans, except that a rescan finding malware
bans the version again: no decision made under older rules keeps malware installable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from skills.definition import load_skill_definition
from skills.marketplace.archive import unpack_package
from skills.marketplace.errors import Conflict, UnknownMarketplaceSkill
from skills.marketplace.models import (
    STATUSES,
    PackageBlob,
    ScanFindingRow,
    ScanReport,
    SkillVersion,
    StatusChange,
    utcnow,
)
from skills.marketplace.scan import RULES_VERSION, scan_package
from skills.marketplace.scan.report import STATUS_OF_VERDICT, ScanResult

SCAN_ACTOR = "scan"


def apply_scan(session: Session, version: SkillVersion, result: ScanResult) -> None:
    """Record a scan and set the version's status from its verdict (see the module's rule on overrides)."""
    report = ScanReport(
        version_id=version.id, rules_version=result.rules_version, verdict=result.verdict,
        scanners={name: run.model_dump() for name, run in result.scanners.items()},
        started_at=result.started_at, finished_at=result.finished_at,
        findings=[ScanFindingRow(**finding.model_dump()) for finding in result.findings],
    )
    session.add(report)
    version.rules_version = result.rules_version
    status = STATUS_OF_VERDICT[result.verdict]
    if version.overridden_by and status != "banned":
        session.commit()
        return
    if version.overridden_by:
        version.overridden_by = version.overridden_at = version.override_reason = None
    _set_status(session, version, status, SCAN_ACTOR, f"{result.verdict} (rules v{result.rules_version}): {result.reasons}")
    session.commit()


def override_status(session: Session, version: SkillVersion, status: str, actor: str, reason: str) -> None:
    """An admin's decision, kept with who, when and why."""
    if status not in STATUSES:
        raise Conflict(f"Unknown status {status!r}.", [f"Use one of: {', '.join(STATUSES)}."])
    if not reason.strip():
        raise Conflict("An override needs a reason.", ["Say why, e.g. --reason 'reviewed: the network use is declared'."])
    version.overridden_by, version.overridden_at, version.override_reason = actor, utcnow(), reason
    _set_status(session, version, status, actor, f"override: {reason}")
    session.commit()


def _set_status(session: Session, version: SkillVersion, status: str, actor: str, reason: str) -> None:
    session.add(StatusChange(version_id=version.id, from_status=version.status, to_status=status, actor=actor, reason=reason))
    version.status, version.status_reason = status, reason
    skill = version.skill
    if skill.latest_version == version.version:
        skill.status = status


def versions_to_rescan(session: Session, everything: bool) -> list[SkillVersion]:
    query = select(SkillVersion).order_by(SkillVersion.id)
    if not everything:
        query = query.where(or_(SkillVersion.rules_version.is_(None), SkillVersion.rules_version < RULES_VERSION))
    return list(session.scalars(query))


def rescan(session: Session, version: SkillVersion) -> ScanResult:
    """Scan a stored version again with today's rules."""
    with unpacked(session, version) as folder:
        result = scan_package(folder, load_skill_definition(folder))
    apply_scan(session, version, result)
    return result


def find_version(session: Session, skill_id: str, version: str) -> SkillVersion:
    found = session.scalar(select(SkillVersion).where(SkillVersion.skill_id == skill_id, SkillVersion.version == version))
    if found is None:
        raise UnknownMarketplaceSkill(skill_id, version)
    return found


class _Unpacked:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> Path:
        self._scratch = tempfile.TemporaryDirectory(prefix="skillworks-rescan-")
        folder = Path(self._scratch.name)
        unpack_package(self.data, folder)
        return folder

    def __exit__(self, *exc_info: object) -> None:
        self._scratch.cleanup()


def unpacked(session: Session, version: SkillVersion) -> _Unpacked:
    """A stored version's package, unpacked (with the same checks as at publish) for as long as needed."""
    blob = session.get(PackageBlob, version.sha256)
    assert blob is not None, f"the package of {version.skill_id}@{version.version} is missing"
    return _Unpacked(blob.data)
