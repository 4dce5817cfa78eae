"""The marketplace's dependencies: its store (opened and migrated on first use) and the caller.

The caller is the admin when the bearer token is ``SKILLWORKS_API_TOKEN`` (or when no token
is sent to an open facade, whose callers may already run any skill here), else the account
of a marketplace token. An unknown token is refused, on an open facade too.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from blocks.settings import load_settings, marketplace_database_url
from service.errors import ApiError
from skills.marketplace.identity import ADMIN, Caller
from skills.marketplace.store import Marketplace

_opening = asyncio.Lock()


async def _marketplace(request: Request) -> Marketplace:
    market: Marketplace | None = getattr(request.app.state, "marketplace", None)
    if market is not None:
        return market
    async with _opening:
        if getattr(request.app.state, "marketplace", None) is None:
            url = await marketplace_database_url()
            opened = await run_in_threadpool(Marketplace.open, url)
            await run_in_threadpool(opened.migrate)  # a no-op once `skillworks up` has migrated
            request.app.state.marketplace = opened
    return request.app.state.marketplace


MarketplaceDep = Annotated[Marketplace, Depends(_marketplace)]


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, {
        "hint": "send Authorization: Bearer <token> (SKILLWORKS_API_TOKEN or a marketplace token)",
        "suggestions": ["An admin creates tokens with `skillworks marketplace token create NAME --role ROLE`."],
    })


async def marketplace_caller(request: Request, market: MarketplaceDep) -> Caller:
    admin_token = (await load_settings()).api_token
    header = request.headers.get("authorization", "")
    if not header:
        if admin_token:
            raise _unauthenticated("Missing bearer token.")
        return ADMIN
    scheme, _, supplied = header.partition(" ")
    if scheme.lower() != "bearer" or not supplied:
        raise _unauthenticated("Malformed Authorization header.")
    if admin_token and hmac.compare_digest(supplied.encode(), admin_token.encode()):
        return ADMIN
    caller = await run_in_threadpool(market.caller_for_token, supplied)
    if caller is None:
        raise _unauthenticated("Unknown or wrong bearer token.")
    return caller


CallerDep = Annotated[Caller, Depends(marketplace_caller)]
