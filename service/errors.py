"""Errors the facade answers with: JSON ``{error, code, details?}`` and the right status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from skills.errors import FieldIssue, UnknownSkillError


class ApiError(Exception):
    """An answer other than success, with a message a client can act on."""

    def __init__(self, status: int, code: str, error: str, details: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error
        self.details = details


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

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(_body(str(exc.detail), code), status_code=exc.status_code)
