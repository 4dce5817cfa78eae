"""The facade's app factory: routers, error handlers, a body-size limit, one Prefect client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from prefect import get_client
from starlette.types import ASGIApp, Receive, Scope, Send

from blocks.settings import load_settings
from service.dashboard import router as dashboard_router
from service.deps import require_token
from service.errors import error_responses, install_error_handlers
from service.routes import executions, rollback, skills

MAX_BODY_BYTES = 64 * 1024


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with get_client() as client:
        app.state.prefect_client = client
        await load_settings()  # read the blocks once before the first request
        yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="skillworks",
        version="0.1.0",
        description="Run developer skills as Prefect flows: dry runs, live progress, history.",
        lifespan=_lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    for router in (skills.router, executions.router, rollback.router):
        app.include_router(router, dependencies=[Depends(require_token)], responses=error_responses())
    app.include_router(dashboard_router)
    return app


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` (413) before reading them.

    A plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs time on every request
    and wraps streamed responses). The size is read from ``Content-Length``; a body sent
    without one (chunked) is refused with 411, so no body is ever read unmeasured.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(dict(scope["headers"]), scope["method"])
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: dict[bytes, bytes], method: str) -> JSONResponse | None:
        declared = headers.get(b"content-length")
        if declared is None:
            if headers.get(b"transfer-encoding") and method in ("POST", "PUT", "PATCH"):
                return JSONResponse({"error": "Send the body with a Content-Length.", "code": "length_required"}, 411)
            return None
        if not declared.isdigit() or int(declared) > self.max_bytes:
            return JSONResponse(
                {"error": f"Request body is larger than {self.max_bytes} bytes.", "code": "body_too_large"}, 413
            )
        return None
