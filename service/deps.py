"""Shared dependencies of the routes, as named types."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from prefect.client.orchestration import PrefectClient, SyncPrefectClient

from blocks.settings import Settings, catalog_sources, load_settings, skillworks_home
from service.errors import ApiError
from service.estimates import MeasuredEstimates
from skills.catalog import SkillCatalog
from skills.dev_folders import DevFolders
from skills.live_catalog import LiveCatalog

_live: LiveCatalog | None = None

# The dependencies below are ``async def`` though they never wait: FastAPI runs a plain ``def``
# dependency in its thread pool, and that hand-off cost more than the rest of a cached
# ``GET /api/skill-metadata`` together.


async def _prefect_client(request: Request) -> PrefectClient:
    return request.app.state.prefect_client


async def _sync_prefect_client(request: Request) -> SyncPrefectClient:
    return request.app.state.sync_prefect_client


async def _estimates(request: Request) -> MeasuredEstimates:
    return request.app.state.estimates


async def _settings() -> Settings:
    return await load_settings()


def live_catalog() -> LiveCatalog:
    """This process's catalog, hot-reloaded (``skills.live_catalog``; the app's lifespan watches it)."""
    global _live
    if _live is None:
        _live = LiveCatalog(catalog_sources, DevFolders(skillworks_home()).folder)
    return _live


def current_catalog() -> SkillCatalog:
    """The skills this facade serves, as they are now: built-in, local, installed and dev."""
    return live_catalog().current


async def _current_catalog() -> SkillCatalog:
    return current_catalog()


async def _live_catalog() -> LiveCatalog:
    return live_catalog()


async def require_token(request: Request) -> None:
    """With ``SKILLWORKS_API_TOKEN`` set, every ``/api`` call needs ``Authorization: Bearer <token>``."""
    if not await token_accepted(request.headers.get("authorization", "")):
        raise ApiError(401, "unauthenticated", "Missing or wrong bearer token.", {"hint": "send Authorization: Bearer <SKILLWORKS_API_TOKEN>"})


async def token_accepted(authorization: str) -> bool:
    """Whether an ``Authorization`` header value lets a caller in (any does when no token is set)."""
    expected = (await load_settings()).api_token
    if not expected:
        return True
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.encode(), expected.encode())


PrefectClientDep = Annotated[PrefectClient, Depends(_prefect_client)]
SyncPrefectClientDep = Annotated[SyncPrefectClient, Depends(_sync_prefect_client)]
EstimatesDep = Annotated[MeasuredEstimates, Depends(_estimates)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogDep = Annotated[SkillCatalog, Depends(_current_catalog)]
LiveCatalogDep = Annotated[LiveCatalog, Depends(_live_catalog)]
