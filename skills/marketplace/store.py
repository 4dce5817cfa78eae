"""The marketplace as one object: its database, and every operation the API offers.

Example:
    ```python
    market = Marketplace.open("sqlite:////tmp/market.db")
    market.migrate()
    token = market.create_token(ADMIN, "alice", "publisher")
    alice = market.caller_for_token(token)
    market.publish(alice, PackageUpload(data, signature, public_key))
    page = market.search(q="docker")
    ```

Each call runs in its own session and transaction; the objects returned are read models
(``views``), never live rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from skills.marketplace import governance, search
from skills.marketplace.checks import newest_version
from skills.marketplace.database import is_current, migrate, open_engine, session_factory
from skills.marketplace.errors import NotInstallable, UnknownMarketplaceSkill, VersionNotActive
from skills.marketplace.identity import Caller, account_for, caller_for_token, create_token
from skills.marketplace.models import LOCAL_ORIGIN, PackageBlob, Rating, Role, Skill, SkillVersion, StatusChange, utcnow
from skills.marketplace.publish import PackageUpload, Signer, publish_package
from skills.marketplace.scan import RULES_VERSION
from skills.marketplace.views import (
    IndexEntry,
    InstallablePackage,
    PublisherView,
    PublishResult,
    RatingsSummary,
    RescanReport,
    ReviewView,
    ScanReportView,
    SearchPage,
    SkillDetail,
    SkillSummary,
    StatusChangeView,
    VersionView,
)


class Marketplace:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    @classmethod
    def open(cls, url: str) -> Marketplace:
        return cls(open_engine(url))

    def migrate(self) -> None:
        migrate(self.engine)

    def is_current(self) -> bool:
        return is_current(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    # identity

    def create_token(self, caller: Caller, name: str, role: Role) -> str:
        caller.require("admin")
        with self.session() as session:
            token = create_token(session, name, role)
            session.commit()
            return token

    def caller_for_token(self, token: str) -> Caller | None:
        with self.session() as session:
            return caller_for_token(session, token)

    # publishing and governance

    def publish(self, caller: Caller, upload: PackageUpload) -> PublishResult:
        caller.require("publisher", "admin")
        with self.session() as session:
            account = account_for(session, caller)
            session.commit()
            version = publish_package(session, Signer(caller.name, LOCAL_ORIGIN, account.id), upload, caller.name)
            return self._publish_result(session, version)

    def import_package(self, signer: Signer, upload: PackageUpload, actor: str) -> PublishResult:
        """A package pulled from another marketplace (``sync``): the same checks and scan as a publish."""
        with self.session() as session:
            return self._publish_result(session, publish_package(session, signer, upload, actor))

    def override(self, caller: Caller, skill_id: str, version: str, status: str, reason: str) -> VersionView:
        caller.require("admin")
        with self.session() as session:
            found = governance.find_version(session, skill_id, version)
            governance.override_status(session, found, status, caller.name, reason)
            return self._version_view(session, found)

    def rescan(self, caller: Caller, everything: bool = False) -> RescanReport:
        caller.require("admin")
        with self.session() as session:
            rescanned = []
            for version in governance.versions_to_rescan(session, everything):
                governance.rescan(session, version)
                rescanned.append(self._publish_result(session, version))
            return RescanReport(rules_version=RULES_VERSION, rescanned=rescanned)

    # browsing and rating

    def search(self, q: str = "", category: str | None = None, tag: str | None = None, status: str | None = "active",
               sort: search.Sort = "relevance", page: int = 1, page_size: int = 20) -> SearchPage:
        with self.session() as session:
            skills, total = search.search_skills(session, q, category, tag, status, sort, page, page_size)
            return SearchPage(skills=[_summary(skill) for skill in skills], total=total, page=page, page_size=page_size)

    def categories(self, status: str | None = "active") -> list[tuple[str, int]]:
        with self.session() as session:
            return search.categories(session, status)

    def skill(self, skill_id: str) -> SkillDetail:
        with self.session() as session:
            skill = _skill(session, skill_id)
            versions = sorted(skill.versions, key=lambda v: v.id, reverse=True)
            ratings = list(session.scalars(select(Rating).where(Rating.skill_id == skill_id).order_by(Rating.updated_at.desc())))
            histogram = Counter(str(rating.stars) for rating in ratings)
            latest = next((v for v in versions if v.version == skill.latest_version), versions[0])
            return SkillDetail(
                id=skill.id, name=skill.name, category=skill.category, description=skill.description, tags=skill.tags,
                readme=latest.readme, status=skill.status, latest_version=skill.latest_version,
                installable_version=next((v.version for v in versions if v.status == "active"), None),
                installs=skill.installs, publisher=_publisher_view(skill),
                versions=[self._version_view(session, v) for v in versions],
                ratings=RatingsSummary(average=skill.rating_average, count=skill.rating_count,
                                       histogram={str(stars): histogram.get(str(stars), 0) for stars in range(1, 6)}),
                reviews=[ReviewView(user=r.account.name, stars=r.stars, review=r.review, updated_at=r.updated_at) for r in ratings],
            )

    def rate(self, caller: Caller, skill_id: str, stars: int, review: str) -> RatingsSummary:
        """One rating per account and skill; rating again updates it."""
        with self.session() as session:
            skill = _skill(session, skill_id)
            account = account_for(session, caller)
            rating = session.scalar(select(Rating).where(Rating.skill_id == skill_id, Rating.account_id == account.id))
            if rating is None:
                session.add(Rating(skill_id=skill_id, account_id=account.id, stars=stars, review=review))
            else:
                rating.stars, rating.review, rating.updated_at = stars, review, utcnow()
            session.flush()
            average, count = session.execute(
                select(func.avg(Rating.stars), func.count()).where(Rating.skill_id == skill_id)
            ).one()
            skill.rating_average, skill.rating_count = round(float(average or 0), 3), int(count)
            session.commit()
            return self.skill(skill_id).ratings

    # packages and the index other marketplaces pull

    def package(self, caller: Caller, skill_id: str, version: str) -> tuple[SkillVersion, bytes]:
        """A version's bytes with its digest and signature; banned ones only for admins (audit)."""
        with self.session() as session:
            found = governance.find_version(session, skill_id, version)
            if found.status == "banned" and caller.role != "admin":
                raise NotInstallable(f"{skill_id}@{version} is banned: {found.status_reason}", ["It is kept for audit only."])
            blob = session.get(PackageBlob, found.sha256)
            assert blob is not None
            return found, blob.data

    def installable(self, skill_id: str, version: str | None = None) -> InstallablePackage:
        """An ``active`` version's package with what proves it (digest, signature, publisher key), the
        newest active one when ``version`` is None; counts the install."""
        with self.session() as session:
            skill = _skill(session, skill_id)
            active = [v.version for v in skill.versions if v.status == "active"]
            if version is None:
                if not active:
                    raise VersionNotActive(f"{skill_id} has no active version.", ["Only versions the scan passed (or an admin allowed) install."])
                version = newest_version(active)
            found = governance.find_version(session, skill_id, version)
            if found.status != "active":
                raise VersionNotActive(
                    f"{skill_id}@{version} is {found.status}: {found.status_reason}",
                    [f"Only active versions install; active: {', '.join(active) or 'none'}."],
                )
            blob = session.get(PackageBlob, found.sha256)
            assert blob is not None
            skill.installs += 1
            session.commit()
            return InstallablePackage(
                skill_id=skill_id, version=version, sha256=found.sha256, signature=found.signature,
                publisher=skill.publisher.name, public_key=skill.publisher.public_key,
                key_fingerprint=skill.publisher.key_fingerprint, active_versions=active, data=blob.data,
            )

    def index(self) -> list[IndexEntry]:
        """Every active version, oldest first (so a puller publishes them in order)."""
        with self.session() as session:
            rows = session.scalars(select(SkillVersion).where(SkillVersion.status == "active").order_by(SkillVersion.id))
            return [
                IndexEntry(skill_id=v.skill_id, version=v.version, sha256=v.sha256, size=v.size, signature=v.signature,
                           publisher=v.skill.publisher.name, public_key=v.skill.publisher.public_key, published_at=v.published_at)
                for v in rows
            ]

    # read models

    def _publish_result(self, session: Session, version: SkillVersion) -> PublishResult:
        session.refresh(version)
        view = self._version_view(session, version)
        return PublishResult(skill_id=version.skill_id, version=version.version, sha256=version.sha256,
                             status=version.status, status_reason=version.status_reason, scan=view.scan)

    def _version_view(self, session: Session, version: SkillVersion) -> VersionView:
        report = version.reports[-1] if version.reports else None
        history = session.scalars(select(StatusChange).where(StatusChange.version_id == version.id).order_by(StatusChange.id))
        return VersionView(
            version=version.version, status=version.status, status_reason=version.status_reason, sha256=version.sha256,
            size=version.size, archive_format=version.archive_format, signature=version.signature,
            key_fingerprint=version.key_fingerprint, published_by=version.published_by, published_at=version.published_at,
            origin=version.origin, rules_version=version.rules_version, overridden_by=version.overridden_by,
            overridden_at=version.overridden_at, override_reason=version.override_reason, manifest=version.manifest,
            scan=ScanReportView(
                rules_version=report.rules_version, verdict=report.verdict, scanners=report.scanners,
                findings=[{c: getattr(f, c) for c in ("scanner", "rule", "severity", "file", "line", "excerpt", "message")}
                          for f in report.findings],
                started_at=report.started_at, finished_at=report.finished_at,
            ) if report else None,
            history=[StatusChangeView(from_status=c.from_status, to_status=c.to_status, actor=c.actor, reason=c.reason, at=c.at)
                     for c in history],
        )


def _skill(session: Session, skill_id: str) -> Skill:
    skill = session.get(Skill, skill_id)
    if skill is None:
        raise UnknownMarketplaceSkill(skill_id)
    return skill


def _summary(skill: Skill) -> SkillSummary:
    return SkillSummary(
        id=skill.id, name=skill.name, category=skill.category, description=skill.description, tags=skill.tags,
        latest_version=skill.latest_version, status=skill.status, publisher=skill.publisher.name, origin=skill.origin,
        installs=skill.installs, rating_average=skill.rating_average, rating_count=skill.rating_count, updated_at=skill.updated_at,
    )


def _publisher_view(skill: Skill) -> PublisherView:
    p = skill.publisher
    return PublisherView(name=p.name, origin=p.origin, public_key=p.public_key, key_fingerprint=p.key_fingerprint)
