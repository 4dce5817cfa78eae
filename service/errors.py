"""Errors the facade answers with: JSON ``{error, code, details?}`` and the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.schemas import ErrorBody
from skills.errors import FieldIssue, UnknownSkillError
from skills.marketplace.errors import (
    Conflict,
    ImmutableVersionError,
    MarketplaceError,
    NotAllowed,
    NotInstallable,
    PublishRefused,
    StoreNotReady,
    SyncFailed,
    Unauthenticated,
    UnknownMarketplaceSkill,
    VersionNotActive,
)

logger = logging.getLogger("skillworks.service")


def deployment_missing(name: str) -> ApiError:
    return ApiError(
        503, "deployment_missing", f"Prefect has no deployment {name!r}.",
        {"suggestions": ["Start `skillworks up`, or run `prefect deploy --all` and a worker for the `skillworks` pool."]},
    )


class ApiError(Exception):
    """An answer other than success, with a message a client can act on."""

    def __init__(self, status: int, code: str, error: str, details: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error
        self.details = details


def error_responses() -> dict[int | str, dict[str, Any]]:
    """The error answers of every API route, for the OpenAPI document."""
    meanings = {
        400: "Malformed request (the body is not JSON)",
        401: "Missing or wrong bearer token",
        403: "The caller's role or identity does not allow this",
        404: "Unknown skill or execution",
        409: "Conflict with a running or finished execution",
        411: "A body was sent without Content-Length",
        413: "Request body too large",
        415: "The body is not of the media type the route takes",
        422: "Invalid input, with each field's problem",
        500: "The server failed; nothing was changed",
        502: "Another server this request needed (a marketplace to sync from) failed",
        503: "Prefect is not serving what the request needs",
    }
    return {status: {"model": ErrorBody, "description": meaning} for status, meaning in meanings.items()}


# Status and code of each marketplace refusal (the most specific class wins: checked in order).
_MARKETPLACE_ANSWERS: tuple[tuple[type[MarketplaceError], int, str], ...] = (
    (UnknownMarketplaceSkill, 404, "unknown_skill"),
    (Unauthenticated, 401, "unauthenticated"),
    (NotAllowed, 403, "forbidden"),
    (VersionNotActive, 409, "not_active"),
    (NotInstallable, 403, "banned"),
    (ImmutableVersionError, 409, "immutable_version"),
    (Conflict, 409, "conflict"),
    (SyncFailed, 502, "sync_failed"),
    (StoreNotReady, 503, "store_unavailable"),
)


def marketplace_answer(exc: MarketplaceError) -> tuple[int, str, dict[str, Any]]:
    details: dict[str, Any] = {"suggestions": exc.suggestions}
    if isinstance(exc, PublishRefused):
        details["failures"] = [vars(failure) for failure in exc.failures]
        return exc.status, "publish_refused", details
    for error_type, status, code in _MARKETPLACE_ANSWERS:
        if isinstance(exc, error_type):
            return status, code, details
    return 400, "marketplace_error", details


def invalid_input(issues: list[FieldIssue], warnings: list[str] | None = None) -> ApiError:
    details = {"errors": [issue_json(issue) for issue in issues]}
    if warnings:
        details["warnings"] = warnings  # type: ignore[assignment]
    summary = "; ".join(str(issue) for issue in issues)
    return ApiError(422, "invalid_parameters", f"Invalid input: {summary}", details)


def issue_json(issue: FieldIssue) -> dict[str, str]:
    return {"field": issue.field, "reason": issue.reason, "hint": issue.hint}


def _body(error: str, code: str, details: Any = None) -> dict[str, Any]:
    return {"error": error, "code": code, **({"details": details} if details is not None else {})}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.error, exc.code, exc.details), status_code=exc.status)

    @app.exception_handler(UnknownSkillError)
    async def unknown_skill(request: Request, exc: UnknownSkillError) -> JSONResponse:
        return JSONResponse(_body(exc.message, "unknown_skill", {"suggestions": exc.suggestions}), status_code=404)

    @app.exception_handler(MarketplaceError)
    async def marketplace_error(request: Request, exc: MarketplaceError) -> JSONResponse:
        status, code, details = marketplace_answer(exc)
        return JSONResponse(_body(exc.message, code, details), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(error["type"] == "json_invalid" for error in errors):
            return JSONResponse(_body("Request body is not valid JSON.", "malformed_json"), status_code=400)
        fields = [
            {"field": ".".join(str(p) for p in error["loc"][1:]) or "body", "reason": error["msg"], "hint": ""}
            for error in errors
        ]
        summary = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return JSONResponse(_body(f"Invalid request: {summary}", "invalid_request", {"errors": fields}), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error answering %s %s", request.method, request.url.path)
        return JSONResponse(
            _body(f"Unexpected server error ({type(exc).__name__}); see the facade's log.", "internal_error"), status_code=500
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(_body(str(exc.detail), code), status_code=exc.status_code)
