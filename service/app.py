"""The facade's app factory: routers, error handlers, a body-size limit, one Prefect client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prefect import get_client

from service.dashboard import router as dashboard_router
from service.deps import require_token
from service.errors import error_responses, install_error_handlers
from service.routes import executions, rollback, skills

MAX_BODY_BYTES = 64 * 1024


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with get_client() as client:
        app.state.prefect_client = client
        yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="skillworks",
        version="0.1.0",
        description="Run developer skills as Prefect flows: dry runs, live progress, history.",
        lifespan=_lifespan,
    )
    install_error_handlers(app)
    app.middleware("http")(_limit_body_size)
    for router in (skills.router, executions.router, rollback.router):
        app.include_router(router, dependencies=[Depends(require_token)], responses=error_responses())
    app.include_router(dashboard_router)
    return app


async def _limit_body_size(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse bodies over ``MAX_BODY_BYTES`` (413) before reading them."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return JSONResponse(
            {"error": f"Request body is larger than {MAX_BODY_BYTES} bytes.", "code": "body_too_large"}, status_code=413
        )
    return await call_next(request)
