"""Pulling another skillworks marketplace's active skills (the documented cloud sync).

For each version in the other marketplace's index: skip it if its id belongs here to
someone else (a pulled id never takes over a local one) or if it is already here; else
download it, check its sha256 against the index and its Ed25519 signature against the
publisher's key, and publish it here through the same checks and the same scan as a local
upload, under a publisher named for its origin. Nothing the other marketplace said about
the package's safety is trusted: its status here is what this marketplace's rules say.
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError
from sqlalchemy import select

from skills.marketplace.errors import MarketplaceError, PublishRefused, SyncFailed
from skills.marketplace.models import Publisher, Skill, SkillVersion
from skills.marketplace.publish import PackageUpload, Signer
from skills.marketplace.signing import package_digest, verify
from skills.marketplace.store import Marketplace
from skills.marketplace.views import IndexEntry, MarketplaceIndex, SyncEntryResult, SyncReport

SYNC_ACTOR = "sync"
TIMEOUT_SECONDS = 30.0


def sync_from(market: Marketplace, source: str, token: str | None = None, transport: httpx.BaseTransport | None = None) -> SyncReport:
    """Pull every active version ``source`` lists; one result per version, in index order."""
    origin = source.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=origin, headers=headers, timeout=TIMEOUT_SECONDS, transport=transport) as client:
        index = _read_index(client, origin)
        return SyncReport(source=origin, results=[_pull(market, client, origin, entry) for entry in index.entries])


def _read_index(client: httpx.Client, origin: str) -> MarketplaceIndex:
    try:
        response = client.get("/api/marketplace/index")
    except httpx.HTTPError as exc:
        raise SyncFailed(f"Cannot reach the marketplace at {origin}: {exc}", ["Check the URL and that it is running."]) from exc
    if response.status_code != 200:
        raise SyncFailed(f"{origin} answered {response.status_code} for its index: {response.text[:200]}",
                         ["Pass --remote-token if that marketplace needs a token."])
    try:
        return MarketplaceIndex.model_validate_json(response.content)
    except ValidationError as exc:
        raise SyncFailed(f"{origin} did not answer with a skillworks marketplace index.", [str(exc)[:300]]) from exc


def _pull(market: Marketplace, client: httpx.Client, origin: str, entry: IndexEntry) -> SyncEntryResult:
    def result(outcome: str, reason: str = "", status: str | None = None) -> SyncEntryResult:
        return SyncEntryResult(skill_id=entry.skill_id, version=entry.version, outcome=outcome, status=status, reason=reason)

    owner = _local_owner(market, entry.skill_id)
    if owner is not None and owner != (entry.publisher, origin):
        return result("skipped", f"the id belongs here to {owner[0]!r}" + (f" of {owner[1]}" if owner[1] else ""))
    if _has_version(market, entry.skill_id, entry.version):
        return result("already-present")
    try:
        response = client.get(f"/api/marketplace/skills/{entry.skill_id}/versions/{entry.version}/package")
    except httpx.HTTPError as exc:
        return result("refused", f"download failed: {exc}")
    if response.status_code != 200:
        return result("refused", f"download answered {response.status_code}")
    data = response.content
    if package_digest(data) != entry.sha256:
        return result("refused", f"sha256 mismatch: got {package_digest(data)}, the index says {entry.sha256} (altered in transit?)")
    if not verify(entry.public_key, entry.sha256, entry.signature):
        return result("refused", "the signature does not verify with the publisher's key")
    try:
        published = market.import_package(
            Signer(entry.publisher, origin), PackageUpload(data, entry.signature, entry.public_key), SYNC_ACTOR
        )
    except PublishRefused as refused:
        return result("refused", "; ".join(str(failure) for failure in refused.failures))
    except MarketplaceError as refused:
        return result("refused", refused.message)
    return result("copied", published.status_reason, published.status)


def _local_owner(market: Marketplace, skill_id: str) -> tuple[str, str] | None:
    with market.session() as session:
        row = session.execute(
            select(Publisher.name, Publisher.origin).join(Skill, Skill.publisher_id == Publisher.id).where(Skill.id == skill_id)
        ).first()
        return (row[0], row[1]) if row else None


def _has_version(market: Marketplace, skill_id: str, version: str) -> bool:
    with market.session() as session:
        found = session.scalar(select(SkillVersion.id).where(SkillVersion.skill_id == skill_id, SkillVersion.version == version))
        return found is not None
