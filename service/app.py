"""The facade's app factory: routers, error handlers, a body-size limit, one Prefect client."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager, suppress

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from prefect import get_client
from starlette.types import ASGIApp, Receive, Scope, Send

from blocks.settings import load_settings
from flows.shared_tls import share_tls_context
from service.catalog_answer import CatalogAnswer
from service.dashboard import router as dashboard_router
from service.deps import current_catalog, live_catalog, require_token
from service.errors import error_responses, install_error_handlers
from service.estimates import MeasuredEstimates
from service.metrics import HttpMetrics, forget_this_process
from service.routes import analytics, executions, installs, marketplace, metrics, rollback, skills, workflows
from service.run_follower import RunFollower

MAX_BODY_BYTES = 64 * 1024


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    share_tls_context()  # the blocks are re-read every few seconds, each time with a new client
    stop_watching = asyncio.Event()
    watcher = asyncio.create_task(live_catalog().watch(stop=stop_watching))
    async with get_client() as client:
        app.state.prefect_client = client
        await load_settings()  # read the blocks once before the first request
        with ExitStack() as stack:
            # Analytics and estimates read Prefect from worker threads (see service.run_record).
            app.state.sync_prefect_client = stack.enter_context(get_client(sync_client=True))
            app.state.estimates = MeasuredEstimates(app.state.sync_prefect_client, current_catalog)
            follower = asyncio.create_task(RunFollower(client, current_catalog).follow(), name="run-follower")
            # Everything imported and built so far lives as long as the process: keep it out of
            # the garbage collector's full passes, which took over 100 ms and showed up in the
            # p99 of every request in flight during one.
            gc.freeze()
            try:
                yield
            finally:
                follower.cancel()
                with suppress(asyncio.CancelledError):
                    await follower
                forget_this_process()
                stop_watching.set()
                await asyncio.wait_for(watcher, timeout=5)


def create_app() -> FastAPI:
    app = FastAPI(
        title="skillworks",
        version="0.1.0",
        description="Run developer skills as Prefect flows: dry runs, live progress, history.",
        lifespan=_lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_bytes=MAX_BODY_BYTES, larger={("POST", "/api/marketplace/skills"): marketplace.MAX_UPLOAD_BYTES}
    )
    for router in (skills.router, executions.router, rollback.router, workflows.router, analytics.router):
        app.include_router(router, dependencies=[Depends(require_token)], responses=error_responses())
    # The marketplace authenticates its own callers: admin token, or a marketplace account's token.
    app.include_router(marketplace.router, responses=error_responses())
    app.include_router(installs.router, responses=error_responses())
    app.include_router(metrics.router)  # checks the token itself: SKILLWORKS_METRICS_PUBLIC may open it
    app.include_router(dashboard_router)
    app.add_middleware(CatalogAnswer)
    app.add_middleware(HttpMetrics)  # added last, so it is outermost: it sees refused bodies too
    return app


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` (413) before reading them.

    A plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs time on every request
    and wraps streamed responses). The size is read from ``Content-Length``; a body sent
    without one (chunked) is refused with 411, so no body is ever read unmeasured.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # (method, path) -> its own cap, for the few routes that take files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.larger.get((scope["method"], scope["path"]), self.max_bytes)
            refusal = self._refusal(dict(scope["headers"]), scope["method"], limit)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: dict[bytes, bytes], method: str, limit: int) -> JSONResponse | None:
        declared = headers.get(b"content-length")
        if declared is None:
            if headers.get(b"transfer-encoding") and method in ("POST", "PUT", "PATCH"):
                return JSONResponse({"error": "Send the body with a Content-Length.", "code": "length_required"}, 411)
            return None
        if not declared.isdigit() or int(declared) > limit:
            return JSONResponse({"error": f"Request body is larger than {limit} bytes.", "code": "body_too_large"}, 413)
        return None
