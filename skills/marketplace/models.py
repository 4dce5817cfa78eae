"""The marketplace's tables, as SQLAlchemy 2 models.

What a publisher uploads is kept whole and never changed: a ``SkillVersion`` row holds the
archive's sha256 and the publisher's signature (an ORM hook refuses any later change to
them), the bytes live in ``PackageBlob`` under that sha256. Everything that may change —
status, scans, ratings, install counts — lives beside it.

Full-text search is not modelled here: it is a dialect's own structure (an FTS5 table on
SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL), made by the
migrations and queried by ``search``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from skills.marketplace.errors import ImmutableVersionError

Role = Literal["admin", "publisher", "user"]
ROLES: tuple[Role, ...] = ("admin", "publisher", "user")
Status = Literal["untrusted", "active", "banned"]
STATUSES: tuple[Status, ...] = ("untrusted", "active", "banned")
LOCAL_ORIGIN = ""  # published here, not pulled from another marketplace


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreSession(Session):
    """The marketplace's sessions (the immutability hook below listens on these only)."""


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    """Someone with API tokens: an admin, a publisher or a user (who rates)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token, stored as its sha256 (tokens are 256 random bits: no slow hash needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(lazy="joined")


class Publisher(Base):
    """Who signs packages: a local account, or a publisher of another marketplace (``origin``)."""

    __tablename__ = "publishers"
    __table_args__ = (UniqueConstraint("name", "origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(500), default=LOCAL_ORIGIN)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    public_key: Mapped[str] = mapped_column(String(64))  # Ed25519, raw 32 bytes in base64
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Skill(Base):
    """A skill id, owned for good by the publisher who first published it."""

    __tablename__ = "skills"
    # One index per sort under the usual status filter, ending in the id tiebreak, so a page is
    # read in index order instead of sorting every match.
    __table_args__ = (
        Index("ix_skills_category_status", "category", "status"),
        Index("ix_skills_status_updated", "status", "updated_at", "id"),
        Index("ix_skills_status_installs", "status", "installs", "id"),
        Index("ix_skills_status_rating", "status", "rating_average", "rating_count", "id"),
        Index("ix_skills_status_name", "status", "name", "id"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("publishers.id"))
    origin: Mapped[str] = mapped_column(String(500), default=LOCAL_ORIGIN)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    latest_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="untrusted")  # of the latest version
    installs: Mapped[int] = mapped_column(Integer, default=0)
    rating_average: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    publisher: Mapped[Publisher] = relationship(lazy="joined")
    versions: Mapped[list[SkillVersion]] = relationship(back_populates="skill", order_by="SkillVersion.id")


class SkillTag(Base):
    """A skill's tag, one row each, for the tag filter (``Skill.tags`` keeps them for display)."""

    __tablename__ = "skill_tags"

    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class SkillVersion(Base):
    """One published version: immutable bytes, digest and signature; a status that scans and admins set."""

    __tablename__ = "skill_versions"
    __table_args__ = (UniqueConstraint("skill_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"))
    version: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column()  # SKILL.md's front matter, as parsed
    readme: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    archive_format: Mapped[str] = mapped_column(String(8))  # tar.gz | zip
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519 over signed_message(sha256), base64
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    origin: Mapped[str] = mapped_column(String(500), default=LOCAL_ORIGIN)
    status: Mapped[str] = mapped_column(String(16), default="untrusted")
    status_reason: Mapped[str] = mapped_column(Text, default="not scanned yet")
    rules_version: Mapped[int | None] = mapped_column(Integer)  # of the scan the status comes from
    overridden_by: Mapped[str | None] = mapped_column(String(64))
    overridden_at: Mapped[datetime | None] = mapped_column()
    override_reason: Mapped[str | None] = mapped_column(Text)

    skill: Mapped[Skill] = relationship(back_populates="versions")
    reports: Mapped[list[ScanReport]] = relationship(back_populates="version", order_by="ScanReport.id")

    IMMUTABLE = ("skill_id", "version", "manifest", "sha256", "size", "archive_format", "signature", "key_fingerprint")


class PackageBlob(Base):
    """A package's bytes, by sha256 (kept apart so listings never read them)."""

    __tablename__ = "package_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ScanReport(Base):
    """One scan of one version under one rules version: which scanners ran, and what they found."""

    __tablename__ = "scan_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("skill_versions.id"), index=True)
    rules_version: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(16))  # clean | suspicious | malicious
    scanners: Mapped[dict[str, Any]] = mapped_column()  # name -> {ran, detail}
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column()

    version: Mapped[SkillVersion] = relationship(back_populates="reports")
    findings: Mapped[list[ScanFindingRow]] = relationship(order_by="ScanFindingRow.id", cascade="all, delete-orphan")


class ScanFindingRow(Base):
    __tablename__ = "scan_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("scan_reports.id"), index=True)
    scanner: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    file: Mapped[str] = mapped_column(String(500))
    line: Mapped[int | None] = mapped_column(Integer)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")


class StatusChange(Base):
    """Every change of a version's status: by a scan (actor ``scan``) or an admin, with why."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("skill_versions.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    """One account's stars and review of one skill (updated in place when rated again)."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("skill_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    stars: Mapped[int] = mapped_column(Integer)
    review: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(lazy="joined")


@event.listens_for(StoreSession, "before_flush")
def _refuse_changes_to_published_bytes(session: Session, flush_context: Any, instances: Any) -> None:
    """A published version's identity, digest and signature never change (npm and PyPI promise the same)."""
    from sqlalchemy import inspect

    for instance in session.dirty:
        if isinstance(instance, SkillVersion):
            state = inspect(instance)
            changed = [name for name in SkillVersion.IMMUTABLE if state.attrs[name].history.has_changes()]
            if changed:
                raise ImmutableVersionError(instance.skill_id, instance.version, changed)
    for instance in session.deleted:
        if isinstance(instance, (SkillVersion, PackageBlob)):
            raise ImmutableVersionError(getattr(instance, "skill_id", "?"), getattr(instance, "version", "?"), ["deleted"])
