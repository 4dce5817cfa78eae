"""Shared dependencies of the routes, as named types."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from prefect.client.orchestration import PrefectClient

from blocks.settings import Settings, load_settings
from service.errors import ApiError
from skills.catalog import SkillCatalog, load_builtin_catalog


def _prefect_client(request: Request) -> PrefectClient:
    return request.app.state.prefect_client


async def _settings() -> Settings:
    return await load_settings()


def _catalog() -> SkillCatalog:
    return load_builtin_catalog()


async def require_token(request: Request) -> None:
    """With ``SKILLWORKS_API_TOKEN`` set, every ``/api`` call needs ``Authorization: Bearer <token>``."""
    expected = (await load_settings()).api_token
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, supplied = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise ApiError(401, "unauthenticated", "Missing or wrong bearer token.", {"hint": "send Authorization: Bearer <SKILLWORKS_API_TOKEN>"})


PrefectClientDep = Annotated[PrefectClient, Depends(_prefect_client)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CatalogDep = Annotated[SkillCatalog, Depends(_catalog)]
