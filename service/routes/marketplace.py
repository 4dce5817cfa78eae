"""``/api/marketplace``: publish, browse, rate, govern and sync third-party skills.

The store is synchronous (SQLAlchemy sessions), so these endpoints are plain functions run
in FastAPI's thread pool; the publish endpoint reads its multipart body itself (after the
caller is known, with its own size cap) and hands the bytes to the store.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.errors import ApiError
from service.marketplace_deps import CallerDep, MarketplaceDep, marketplace_caller
from skills.marketplace.archive import DEFAULT_LIMITS
from skills.marketplace.models import Role
from skills.marketplace.publish import PackageUpload
from skills.marketplace.search import Sort
from skills.marketplace.sync import sync_from
from skills.marketplace.views import (
    CategoryCount,
    CategoryList,
    MarketplaceIndex,
    PublishResult,
    RatingsSummary,
    RescanReport,
    SearchPage,
    SkillDetail,
    SyncReport,
    TokenCreated,
    VersionView,
)
from skills.planning import WireModel

router = APIRouter(prefix="/api/marketplace", tags=["marketplace"], dependencies=[Depends(marketplace_caller)])

# The multipart envelope around a package: the package itself is capped by the archive limits.
MAX_UPLOAD_BYTES = DEFAULT_LIMITS.max_package_bytes + 64 * 1024
StatusFilter = Literal["active", "untrusted", "banned", "any"]
SkillId = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
Version = Annotated[str, PathParam(max_length=64)]


class RatingRequest(WireModel):
    stars: int = Field(ge=1, le=5)
    review: str = Field(default="", max_length=5000)


class OverrideRequest(WireModel):
    status: Literal["untrusted", "active", "banned"]
    reason: str = Field(min_length=3, max_length=2000)


class RescanRequest(WireModel):
    all: bool = False


class SyncRequest(WireModel):
    url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=500)
    token: str | None = Field(default=None, max_length=200)


class TokenRequest(WireModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    role: Role = "user"


@router.get("/skills", response_model=SearchPage)
def search_skills(
    market: MarketplaceDep,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    status: StatusFilter = "active",
    sort: Sort = "relevance",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
) -> SearchPage:
    """Full-text search (every word a prefix) with filters, sorting and pages; active skills unless ``status`` says."""
    return market.search(q, category, tag, status, sort, page, page_size)


@router.post(
    "/skills", response_model=PublishResult, status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["package", "signature", "publicKey"],
        "properties": {"package": {"type": "string", "format": "binary"}, "signature": {"type": "string"},
                       "publicKey": {"type": "string"}},
    }}}}},
)
async def publish_skill(request: Request, market: MarketplaceDep, caller: CallerDep) -> PublishResult:
    """Publish a ``.tar.gz`` or ``.zip`` of a skill folder, signed with the publisher's Ed25519 key; it is scanned at once."""
    upload = await _read_upload(request)
    return await run_in_threadpool(market.publish, caller, upload)


async def _read_upload(request: Request) -> PackageUpload:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "Send the package as multipart/form-data.",
                       {"suggestions": ["Fields: package (the archive), signature and publicKey (base64)."]})
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=8 * 1024)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the client's malformed body
        raise ApiError(400, "malformed_body", f"Cannot read the multipart body: {exc}") from exc
    package, signature, public_key = form.get("package"), form.get("signature"), form.get("publicKey")
    missing = [name for name, value in (("package", package), ("signature", signature), ("publicKey", public_key)) if not value]
    if missing or not isinstance(package, UploadFile) or not isinstance(signature, str) or not isinstance(public_key, str):
        raise ApiError(422, "invalid_request", f"Missing or malformed form fields: {', '.join(missing) or 'package'}.", {
            "errors": [{"field": name, "reason": "required", "hint": ""} for name in missing or ["package"]]})
    return PackageUpload(await package.read(), signature.strip(), public_key.strip())


@router.get("/skills/{skill_id}", response_model=SkillDetail)
def skill_detail(skill_id: SkillId, market: MarketplaceDep) -> SkillDetail:
    """Every version with its scan report and status history, the ratings summary, reviews, and the publisher's key."""
    return market.skill(skill_id)


@router.get("/skills/{skill_id}/versions/{version}/package", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The package bytes"}})
def download_package(skill_id: SkillId, version: Version, market: MarketplaceDep, caller: CallerDep) -> Response:
    """The package as published; check ``X-Skillworks-Sha256`` and the signature before using it."""
    found, data = market.package(caller, skill_id, version)
    return Response(data, media_type="application/octet-stream", headers={
        "X-Skillworks-Sha256": found.sha256, "X-Skillworks-Signature": found.signature,
        "Content-Disposition": f'attachment; filename="{skill_id}-{version}.{found.archive_format}"',
    })


@router.post("/skills/{skill_id}/ratings", response_model=RatingsSummary)
def rate_skill(skill_id: SkillId, rating: RatingRequest, market: MarketplaceDep, caller: CallerDep) -> RatingsSummary:
    """1-5 stars and a review; one per account, updated when rated again."""
    return market.rate(caller, skill_id, rating.stars, rating.review)


@router.post("/skills/{skill_id}/versions/{version}/status", response_model=VersionView)
def override_status(
    skill_id: SkillId, version: Version, override: OverrideRequest, market: MarketplaceDep,
    caller: CallerDep,
) -> VersionView:
    """Admins only: set a version's status with a reason (recorded with who and when)."""
    return market.override(caller, skill_id, version, override.status, override.reason)


@router.get("/categories", response_model=CategoryList)
def list_categories(market: MarketplaceDep, status: StatusFilter = "active") -> CategoryList:
    return CategoryList(categories=[CategoryCount(name=name, count=count) for name, count in market.categories(status)])


@router.get("/index", response_model=MarketplaceIndex)
def marketplace_index(market: MarketplaceDep) -> MarketplaceIndex:
    """Every active version with its sha256, signature and publisher key: what another marketplace syncs."""
    return MarketplaceIndex(entries=market.index())


@router.post("/rescan", response_model=RescanReport)
def rescan(request: RescanRequest, market: MarketplaceDep, caller: CallerDep) -> RescanReport:
    """Admins only: rescan every version scanned under older rules (or all of them)."""
    return market.rescan(caller, request.all)


@router.post("/sync", response_model=SyncReport)
def sync(request: SyncRequest, market: MarketplaceDep, caller: CallerDep) -> SyncReport:
    """Admins only: pull another marketplace's active skills, checking digests and signatures and rescanning them."""
    caller.require("admin")
    return sync_from(market, request.url, request.token)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(request: TokenRequest, market: MarketplaceDep, caller: CallerDep) -> TokenCreated:
    """Admins only: a token for an account (made with the role if new). Shown once; stored hashed."""
    return TokenCreated(name=request.name, role=request.role, token=market.create_token(caller, request.name, request.role))
