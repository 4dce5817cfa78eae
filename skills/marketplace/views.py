"""What the marketplace answers with: read models of skills, versions, scans and ratings.

They are the API's response bodies too (camelCase on the wire, like ``ExecutionPlan``), so
the routes and the CLI show exactly what the store returns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from skills.marketplace.scan.report import ScanFinding, ScannerRun
from skills.planning import WireModel


def _in_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# A timestamp on the wire always carries its zone (RFC 3339 ``date-time``, as the schema says).
Timestamp = Annotated[datetime, AfterValidator(_in_utc)]

class InstallablePackage(WireModel):
    """An active version's package and what proves it: its sha256, the publisher's signature and key."""

    skill_id: str
    version: str
    sha256: str
    signature: str
    publisher: str
    public_key: str
    key_fingerprint: str
    active_versions: list[str]
    data: bytes = Field(exclude=True, repr=False)


class PublisherView(WireModel):
    name: str
    origin: str
    public_key: str
    key_fingerprint: str


class SkillSummary(WireModel):
    id: str
    name: str
    category: str
    description: str
    tags: list[str]
    latest_version: str
    status: str
    publisher: str
    origin: str
    installs: int
    rating_average: float
    rating_count: int
    updated_at: Timestamp


class SearchPage(WireModel):
    skills: list[SkillSummary]
    total: int
    page: int
    page_size: int




class ScanReportView(WireModel):
    rules_version: int
    verdict: str
    scanners: dict[str, ScannerRun]
    findings: list[ScanFinding]
    started_at: Timestamp
    finished_at: Timestamp


class StatusChangeView(WireModel):
    from_status: str
    to_status: str
    actor: str
    reason: str
    at: Timestamp


class VersionView(WireModel):
    version: str
    status: str
    status_reason: str
    sha256: str
    size: int
    archive_format: str
    signature: str
    key_fingerprint: str
    published_by: str
    published_at: Timestamp
    origin: str
    rules_version: int | None
    overridden_by: str | None = None
    overridden_at: Timestamp | None = None
    override_reason: str | None = None
    manifest: dict[str, Any]
    scan: ScanReportView | None = None
    history: list[StatusChangeView] = []


class ReviewView(WireModel):
    user: str
    stars: int
    review: str
    updated_at: Timestamp


class RatingsSummary(WireModel):
    average: float
    count: int
    histogram: dict[str, int]  # "1".."5" -> how many


class SkillDetail(WireModel):
    id: str
    name: str
    category: str
    description: str
    tags: list[str]
    readme: str
    status: str
    latest_version: str
    installable_version: str | None  # the newest active version
    installs: int
    publisher: PublisherView
    versions: list[VersionView]  # newest first
    ratings: RatingsSummary
    reviews: list[ReviewView]


class PublishResult(WireModel):
    skill_id: str
    version: str
    sha256: str
    status: str
    status_reason: str
    scan: ScanReportView | None


class CategoryCount(WireModel):
    name: str
    count: int


class CategoryList(WireModel):
    categories: list[CategoryCount]


class IndexEntry(WireModel):
    """One version another marketplace may pull (``GET /api/marketplace/index``)."""

    skill_id: str
    version: str
    sha256: str
    size: int
    signature: str
    publisher: str
    public_key: str
    published_at: Timestamp


class MarketplaceIndex(WireModel):
    entries: list[IndexEntry]


class SyncEntryResult(WireModel):
    skill_id: str
    version: str
    outcome: str  # copied | already-present | refused | skipped
    status: str | None = None
    reason: str = ""


class SyncReport(WireModel):
    source: str
    results: list[SyncEntryResult]

    @property
    def copied(self) -> int:
        return sum(result.outcome == "copied" for result in self.results)


class RescanReport(WireModel):
    rules_version: int
    rescanned: list[PublishResult]


class TokenCreated(WireModel):
    name: str
    role: str
    token: str
