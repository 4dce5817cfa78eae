"""Steps of the REST API Design skill: a TypeScript API on Express, Fastify or Hapi with
JWT, OAuth2 or API-key authentication, Prisma, TypeORM or Sequelize on PostgreSQL, CRUD
routes with zod validation for each resource, an OpenAPI document and API tests.

The templates split along the choices: ``http/<framework>/`` adapts requests to the shared
CRUD handlers, ``auth/`` holds one verifier per strategy, ``db/<orm>/`` the schema,
connection and repositories. Every file follows from the parameters and persona alone, so
the dry run lists exactly what the real run writes.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from dataclasses import dataclass
from typing import Any

from skills.context import StepContext
from skills.errors import InvalidParametersError, StepError

from .openapi import DEFAULT_PORT, openapi_document
from .packages import package_manifest
from .spec import Resource, read_resources

AUTH_TEMPLATES = {"JWT": "auth/jwt.ts.j2", "OAuth2": "auth/oauth2.ts.j2", "API Key": "auth/api-key.ts.j2"}
# Where the Prisma generator writes the client (git-ignored, rebuilt by `npm run db:generate`).
PRISMA_CLIENT_DIR = "src/generated/prisma"


@dataclass(frozen=True)
class Layout:
    """Where each resource's files go: folders per layer, or one module per resource (architect)."""

    modules: bool

    def schema(self, resource: Resource) -> str:
        return self._place(resource, "schema", "schemas")

    def repository(self, resource: Resource) -> str:
        return self._place(resource, "repository", "repositories")

    def _place(self, resource: Resource, role: str, layer: str) -> str:
        if self.modules:
            return f"src/modules/{resource.name}/{resource.name}.{role}.ts"
        return f"src/{layer}/{resource.name}.ts"


def import_path(from_file: str, to_file: str) -> str:
    """The ESM import specifier from one generated source file to another (``./x.js``)."""
    relative = posixpath.relpath(to_file.removesuffix(".ts") + ".js", posixpath.dirname(from_file))
    return relative if relative.startswith(".") else f"./{relative}"


def resources_of(ctx: StepContext) -> list[Resource]:
    return read_resources(ctx.params["resources"])


def render(ctx: StepContext, template: str, file: str, **extra: Any) -> None:
    """Render ``template`` into ``file`` of the project, with what every template needs."""
    layout = Layout(modules=ctx.persona == "architect")
    text = ctx.render(
        template,
        all_resources=resources_of(ctx),
        layout=layout,
        here=file,
        import_path=import_path,
        port=DEFAULT_PORT,
        **extra,
    )
    ctx.workspace.write_text(ctx.file(file), text)


def validate_specification(ctx: StepContext) -> dict[str, Any]:
    """The target folder is still free and every resource and field is well-formed."""
    if not ctx.workspace.is_empty_dir_or_missing(ctx.target):
        raise StepError(
            f"Folder {ctx.workspace.path(ctx.target)} already exists and is not empty.",
            ["Choose another apiName, or move that folder out of the workspace."],
        )
    try:
        resources = resources_of(ctx)
    except InvalidParametersError as exc:
        raise StepError(exc.message, exc.suggestions) from exc
    for check in ctx.environment.checks:
        ctx.log(check.message, "info" if check.ok else "warning")
    ctx.log(f"{len(resources)} resource(s): {', '.join(r.path for r in resources)}")
    return {"resources": [r.path for r in resources]}


def generate_structure(ctx: StepContext) -> dict[str, Any]:
    """package.json with every later step's dependencies, TypeScript config, entry points; npm install."""
    persona = ctx.persona
    manifest = package_manifest(
        ctx.params["apiName"], ctx.params["framework"], ctx.params["authentication"], ctx.params["database"], persona
    )
    if persona == "ai-engineer":
        ctx.persona_change("TypeScript strict mode plus noUncheckedIndexedAccess, noImplicitOverride and noImplicitReturns")
    if persona == "devops":
        ctx.persona_change("src/logger.ts: structured JSON logs, one line per request and per lifecycle event")
    if persona == "security":
        ctx.persona_change("src/rate-limit.ts: a fixed-window rate limit per client address (429 past the limit)")
        render(ctx, "rate-limit.ts.j2", "src/rate-limit.ts")
    if persona == "devops":
        render(ctx, "logger.ts.j2", "src/logger.ts")
    ctx.workspace.write_text(ctx.file("package.json"), json.dumps(manifest, indent=2) + "\n")
    render(ctx, "tsconfig.json.j2", "tsconfig.json")
    render(ctx, "gitignore.j2", ".gitignore", prisma_client_dir=PRISMA_CLIENT_DIR)
    render(ctx, "env.example.j2", ".env.example")
    render(ctx, "README.md.j2", "README.md", scripts=manifest["scripts"])
    render(ctx, "config.ts.j2", "src/config.ts")
    render(ctx, "server.ts.j2", "src/server.ts")
    render(ctx, "migrate.ts.j2", "src/migrate.ts")
    if ctx.params["installDependencies"]:
        ctx.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"],
            timeout=600,
            creates=["package-lock.json"],
            creates_dirs=["node_modules"],
        )
    else:
        ctx.log("installDependencies is off: run `npm install` in the project before using it")
    return {"dependencies": sorted(manifest["dependencies"]), "port": DEFAULT_PORT}


def setup_authentication(ctx: StepContext) -> dict[str, Any]:
    """src/auth.ts: verifies a JWT, an OAuth2 bearer token (against the issuer's JWKS) or an API key."""
    strategy = ctx.params["authentication"]
    if strategy == "None":
        ctx.log("authentication is None: every route is public", "warning")
        return {"strategy": None}
    render(ctx, AUTH_TEMPLATES[strategy], "src/auth.ts")
    return {"strategy": strategy}


def configure_database(ctx: StepContext) -> dict[str, Any]:
    """The ORM's schema or models and the PostgreSQL connection (pure-JavaScript `pg` driver)."""
    database = ctx.params["database"]
    folder = f"db/{database.lower()}"
    render(ctx, f"{folder}/connection.ts.j2", "src/db/connection.ts")
    if database == "Prisma":
        render(ctx, f"{folder}/schema.prisma.j2", "prisma/schema.prisma", prisma_client_dir=PRISMA_CLIENT_DIR)
        render(ctx, f"{folder}/prisma.config.ts.j2", "prisma.config.ts")
        render(ctx, f"{folder}/migration.sql.j2", "prisma/migrations/0_init/migration.sql")
        ctx.workspace.write_text(ctx.file("prisma/migrations/migration_lock.toml"), 'provider = "postgresql"\n')
        if ctx.params["installDependencies"]:
            generate_prisma_client(ctx)
    else:
        render(ctx, f"{folder}/models.ts.j2", "src/db/models.ts")
    return {"orm": database}


def generate_prisma_client(ctx: StepContext) -> None:
    """``prisma generate``: the client is TypeScript plus the WebAssembly query compiler.

    Prisma's CLI still insists on its native schema engine being present before any command,
    and downloads it from Prisma's own servers, not the npm registry. ``generate`` never runs
    it, so pointing PRISMA_SCHEMA_ENGINE_BINARY at an existing executable lets generation
    work offline; ``prisma migrate`` (which does need it) is not used: ``npm run db:migrate``
    applies the SQL migrations through the driver adapter.
    """
    placeholder = shutil.which("true")
    if placeholder is None:
        raise StepError("`true` is not on PATH, so `prisma generate` cannot run offline.", ["Run it on a POSIX system."])
    ctx.run(
        ["npx", "--no-install", "prisma", "generate"],
        timeout=300,
        creates_dirs=[PRISMA_CLIENT_DIR],
        env={"PRISMA_SCHEMA_ENGINE_BINARY": placeholder, "PRISMA_HIDE_UPDATE_MESSAGE": "1"},
    )


def generate_crud_routes(ctx: StepContext) -> dict[str, Any]:
    """Per resource: zod schemas and a repository; the shared CRUD handlers; the app with its routes."""
    persona, framework = ctx.persona, ctx.params["framework"]
    layout = Layout(modules=persona == "architect")
    if persona == "architect":
        ctx.persona_change("layered modules: src/modules/<resource>/ holds its schema and repository; src/crud.ts the handlers")
    if persona == "security":
        ctx.persona_change(
            "security headers and CORS limited to CORS_ORIGINS "
            + ("(Hapi's route security and cors options)" if framework == "Hapi" else "(helmet and cors middleware)")
        )
        ctx.persona_change("input validation rejects unknown fields (zod strict objects)")
    if persona == "devops":
        ctx.persona_change("GET /health (liveness) and GET /ready (database reachable) endpoints")
    render(ctx, "crud.ts.j2", "src/crud.ts")
    for resource in resources_of(ctx):
        render(ctx, "schema.ts.j2", layout.schema(resource), resource=resource)
        render(ctx, f"db/{ctx.params['database'].lower()}/repository.ts.j2", layout.repository(resource), resource=resource)
    render(ctx, f"http/{framework.lower()}.ts.j2", "src/app.ts")
    return {"routes": [r.path for r in resources_of(ctx)]}


def generate_documentation(ctx: StepContext) -> dict[str, Any]:
    """openapi.json: OpenAPI 3.1 for every route, schema and security scheme."""
    document = openapi_document(
        ctx.params["apiName"], resources_of(ctx), ctx.params["authentication"], ctx.persona == "devops"
    )
    ctx.workspace.write_text(ctx.file("openapi.json"), json.dumps(document, indent=2) + "\n")
    return {"paths": sorted(document["paths"]), "file": ctx.file("openapi.json")}


def setup_api_tests(ctx: StepContext) -> dict[str, Any]:
    """tests/api.test.ts: node:test against the running app, CRUD per resource, and 401s."""
    render(ctx, "api.test.ts.j2", "tests/api.test.ts")
    return {"command": "npm test"}
