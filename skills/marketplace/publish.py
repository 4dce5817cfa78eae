"""Publishing a package: check everything, store it immutable, then scan it.

The version is stored ``untrusted`` before the scan starts and is changed only by the
scan's verdict, so a scan that crashes leaves it untrusted (and ``rescan`` picks it up).
Publishing never imports or runs the package's code: the folder is unpacked by
``archive``, read by ``checks`` (``ast``, YAML) and the scanners, then deleted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from skills.definition import SkillDefinition
from skills.marketplace import governance, search
from skills.marketplace.archive import unpack_package
from skills.marketplace.checks import check_skill_folder, newest_version
from skills.marketplace.errors import CheckFailure, Conflict, PublishRefused
from skills.marketplace.models import LOCAL_ORIGIN, PackageBlob, Publisher, Skill, SkillVersion, StatusChange, utcnow
from skills.marketplace.scan import scan_package
from skills.marketplace.signing import key_fingerprint, package_digest, valid_public_key, verify


@dataclass(frozen=True)
class PackageUpload:
    """What a publisher sends: the archive's bytes, its signature, and the signing key."""

    data: bytes
    signature: str
    public_key: str


@dataclass(frozen=True)
class Signer:
    """Whose name a package is published under: a local account, or a publisher of ``origin``."""

    name: str
    origin: str = LOCAL_ORIGIN
    account_id: int | None = None


def publish_package(session: Session, signer: Signer, upload: PackageUpload, actor: str) -> SkillVersion:
    """Check, store and scan one package; raises ``PublishRefused`` listing every failed check."""
    with tempfile.TemporaryDirectory(prefix="skillworks-publish-") as scratch:
        folder = Path(scratch)
        package = unpack_package(upload.data, folder)
        sha256 = package_digest(upload.data)
        failures = _signature_failures(session, signer, upload, sha256)
        definition = _checked_definition(session, folder, signer, failures)
        assert definition is not None
        version = _store(session, signer, upload, sha256, package.archive_format, definition, actor)
        governance.apply_scan(session, version, scan_package(folder, definition))
    return version


def _signature_failures(session: Session, signer: Signer, upload: PackageUpload, sha256: str) -> list[CheckFailure]:
    if not valid_public_key(upload.public_key):
        return [CheckFailure("bad-public-key", "the public key is not a base64 Ed25519 key", hint="`skillworks publish` sends its own.")]
    failures = []
    if not verify(upload.public_key, sha256, upload.signature):
        failures.append(CheckFailure(
            "bad-signature", f"the signature does not match the package (sha256 {sha256}) and key",
            hint="Sign the exact bytes you upload; `skillworks publish` does.",
        ))
    known = _publisher(session, signer)
    if known is not None and known.public_key != upload.public_key:
        failures.append(CheckFailure(
            "publisher-key-mismatch", f"{signer.name!r} signs with the key {known.key_fingerprint[:16]}…, not this one",
            hint="Publish with the key you first published with (the skillworks home keeps it).",
        ))
    return failures


def _checked_definition(session: Session, folder: Path, signer: Signer, failures: list[CheckFailure]) -> SkillDefinition | None:
    """Every remaining check; raises with all failures (signature ones included) if any."""
    try:
        front = yaml.safe_load((folder / "SKILL.md").read_text(encoding="utf-8").split("---", 2)[1])
        skill_id = str(front.get("id", "")) if isinstance(front, dict) else ""
    except (OSError, IndexError, UnicodeDecodeError, yaml.YAMLError):
        skill_id = ""
    skill = session.get(Skill, skill_id) if skill_id else None
    published = [v.version for v in skill.versions] if skill else []
    definition, check_failures = check_skill_folder(folder, published)
    failures = failures + check_failures
    publisher = _publisher(session, signer)
    if skill is not None and (publisher is None or skill.publisher_id != publisher.id):
        failures.insert(0, CheckFailure(
            "id-taken", f"the skill id {skill.id!r} belongs to the publisher {skill.publisher.name!r}"
            + (f" of {skill.publisher.origin}" if skill.publisher.origin else ""),
            "SKILL.md", "Choose another id: an id stays with the publisher who first published it.",
        ))
    if failures:
        raise PublishRefused(failures, status=_status_for(failures))
    return definition


def _status_for(failures: list[CheckFailure]) -> int:
    checks = {failure.check for failure in failures}
    if "id-taken" in checks or checks & {"bad-signature", "publisher-key-mismatch"}:
        return 403
    if checks <= {"version-exists", "version-not-newer"}:
        return 409
    return 422


def _publisher(session: Session, signer: Signer) -> Publisher | None:
    return session.scalar(select(Publisher).where(Publisher.name == signer.name, Publisher.origin == signer.origin))


def _store(
    session: Session, signer: Signer, upload: PackageUpload, sha256: str, archive_format: str,
    definition: SkillDefinition, actor: str,
) -> SkillVersion:
    publisher = _publisher(session, signer)
    if publisher is None:
        publisher = Publisher(
            name=signer.name, origin=signer.origin, account_id=signer.account_id, public_key=upload.public_key,
            key_fingerprint=key_fingerprint(upload.public_key),
        )
        session.add(publisher)
        session.flush()
    skill = session.get(Skill, definition.id)
    newest = skill is None or newest_version([*(v.version for v in skill.versions), definition.version]) == definition.version
    if skill is None:
        skill = Skill(id=definition.id, publisher_id=publisher.id, origin=signer.origin, installs=0, rating_average=0.0, rating_count=0)
        session.add(skill)
    if newest:
        skill.name, skill.category, skill.description = definition.name, definition.category, definition.description
        skill.tags, skill.latest_version, skill.status = list(definition.tags), definition.version, "untrusted"
        skill.updated_at = utcnow()
    version = SkillVersion(
        skill_id=definition.id, version=definition.version, manifest=_manifest(definition), readme=definition.body,
        sha256=sha256, size=len(upload.data), archive_format=archive_format, signature=upload.signature,
        key_fingerprint=publisher.key_fingerprint, published_by=actor, origin=signer.origin,
        status="untrusted", status_reason="not scanned yet",
    )
    if session.get(PackageBlob, sha256) is None:
        session.add(PackageBlob(sha256=sha256, data=upload.data))
    session.add(version)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{definition.id}@{definition.version} was published by someone else just now.",
                       ["Search again, then raise the version."]) from exc
    session.add(StatusChange(version_id=version.id, from_status="untrusted", to_status="untrusted", actor=actor,
                             reason=f"published ({sha256[:12]}…)"))
    search.index_skill(session, skill)
    session.commit()  # stored untrusted before the scan: a crash mid-scan leaves it so
    return version


def _manifest(definition: SkillDefinition) -> dict:
    return definition.model_dump(mode="json", exclude={"folder", "body"}, exclude_none=True)
