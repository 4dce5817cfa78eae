"""The OpenAPI 3.1 document of the generated API, built from the same resources as the code."""

from __future__ import annotations

from typing import Any

from .spec import Resource

# The port the generated API listens on unless PORT says otherwise (config.ts, .env.example).
DEFAULT_PORT = 3000

SECURITY_SCHEMES = {
    "JWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "OAuth2": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An access token from OAUTH2_ISSUER"},
    "API Key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
ERROR = {"$ref": "#/components/schemas/Error"}


def openapi_document(api_name: str, resources: list[Resource], authentication: str, health: bool) -> dict[str, Any]:
    """Paths, schemas and security for every CRUD route (and /health, /ready with ``health``)."""
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "issues": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}, "message": {"type": "string"}}}},
            },
        }
    }
    secured = authentication in SECURITY_SCHEMES
    paths: dict[str, Any] = {}
    for resource in resources:
        schemas.update(_schemas(resource))
        paths.update({path: _secure(item, secured) for path, item in _paths(resource).items()})
    if health:
        paths["/health"] = {"get": _public(_operation("Liveness", {"200": _plain("The process is up")}), secured)}
        ready = {"200": _plain("The database answers"), "503": _plain("The database does not answer")}
        paths["/ready"] = {"get": _public(_operation("Readiness", ready), secured)}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": api_name, "version": "0.1.0"},
        "servers": [{"url": f"http://127.0.0.1:{DEFAULT_PORT}"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if secured:
        document["components"]["securitySchemes"] = {"credentials": SECURITY_SCHEMES[authentication]}
        document["security"] = [{"credentials": []}]
    return document


def _schemas(resource: Resource) -> dict[str, Any]:
    properties = {field.name: field.type.openapi for field in resource.fields}
    names = [field.name for field in resource.fields]
    timestamp = {"type": "string", "format": "date-time"}
    return {
        resource.model: {
            "type": "object",
            "required": ["id", *names, "createdAt", "updatedAt"],
            "properties": {"id": {"type": "integer"}, **properties, "createdAt": timestamp, "updatedAt": timestamp},
        },
        f"{resource.model}Create": {"type": "object", "required": names, "properties": properties},
        f"{resource.model}Update": {"type": "object", "minProperties": 1, "properties": properties},
    }


def _paths(resource: Resource) -> dict[str, Any]:
    model = f"#/components/schemas/{resource.model}"
    one, many = _json("The " + resource.name, {"$ref": model}), _json("All " + resource.plural, {"type": "array", "items": {"$ref": model}})
    invalid, missing = _json("Invalid input", ERROR), _json("No such " + resource.name, ERROR)

    def body(suffix: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"{model}{suffix}"}}}}

    identifier = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]
    return {
        resource.path: {
            "get": _operation(f"List {resource.plural}", {"200": many}),
            "post": _operation(f"Create a {resource.name}", {"201": one, "400": invalid}, body("Create")),
        },
        f"{resource.path}/{{id}}": {
            "parameters": identifier,
            "get": _operation(f"Get a {resource.name}", {"200": one, "404": missing}),
            "patch": _operation(f"Update a {resource.name}", {"200": one, "400": invalid, "404": missing}, body("Update")),
            "delete": _operation(f"Delete a {resource.name}", {"204": {"description": "Deleted"}, "404": missing}),
        },
    }


def _operation(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        operation["requestBody"] = body
    return operation


def _secure(path_item: dict[str, Any], secured: bool) -> dict[str, Any]:
    """Every operation of a protected path may answer 401."""
    if not secured:
        return path_item
    unauthorized = {"401": _json("Missing or invalid credentials", ERROR)}
    return {
        method: {**operation, "responses": {**operation["responses"], **unauthorized}} if method != "parameters" else operation
        for method, operation in path_item.items()
    }


def _public(operation: dict[str, Any], secured: bool) -> dict[str, Any]:
    """An operation that needs no credentials even when the API's default security does."""
    return {**operation, "security": []} if secured else operation


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _plain(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
