"""The generated API's package.json: which npm packages each choice brings, and their versions."""

from __future__ import annotations

from typing import Any

# Caret ranges of the versions current when this skill was last updated (`npm view NAME
# version`). Held back on purpose: typescript 6 (7 is the native rewrite; the ORMs' typings
# are checked against 6), @types/node 24 (the line react-setup uses).
VERSIONS = {
    "zod": "^4.6.7",
    "express": "^5.3.0",
    "@types/express": "^5.0.6",
    "helmet": "^8.3.0",
    "cors": "^2.8.6",
    "@types/cors": "^2.8.19",
    "fastify": "^5.12.8",
    "@fastify/helmet": "^13.2.0",
    "@fastify/cors": "^11.4.3",
    "@hapi/hapi": "^21.4.10",
    "@hapi/boom": "^10.0.1",
    "jose": "^6.2.18",
    "pg": "^8.23.1",
    "@types/pg": "^8.23.1",
    "prisma": "^7.10.1",
    "@prisma/client": "^7.10.0",
    "@prisma/adapter-pg": "^7.10.1",
    "typeorm": "^1.1.1",
    "sequelize": "^6.37.8",
    "pg-hstore": "^2.3.4",
    "typescript": "~6.0.3",
    "@types/node": "^24.19.2",
}

# (runtime, development) packages per choice. Hapi sets security headers and CORS itself.
FRAMEWORK_PACKAGES = {
    "Express": (["express"], ["@types/express"]),
    "Fastify": (["fastify"], []),
    "Hapi": (["@hapi/hapi"], []),
}
SECURITY_PACKAGES = {
    "Express": (["helmet", "cors"], ["@types/cors"]),
    "Fastify": (["@fastify/helmet", "@fastify/cors"], []),
    "Hapi": ([], []),
}
AUTH_PACKAGES = {"JWT": ["jose"], "OAuth2": ["jose"], "API Key": [], "None": []}
# Pure-JavaScript PostgreSQL drivers only: `pg` (pg-native would compile a native module).
ORM_PACKAGES = {
    "Prisma": (["@prisma/client", "@prisma/adapter-pg", "pg"], ["prisma", "@types/pg"]),
    "TypeORM": (["typeorm", "pg"], ["@types/pg"]),
    "Sequelize": (["sequelize", "pg", "pg-hstore"], ["@types/pg"]),
}

# TypeScript 6 and the ORMs support these Node.js lines (Prisma 7 and TypeORM 1 need 20.19+).
NODE_ENGINES = "^20.19.0 || >=22.13.0"


def package_manifest(api_name: str, framework: str, authentication: str, database: str, persona: str) -> dict[str, Any]:
    """package.json for the chosen framework, authentication, ORM and persona."""
    runtime, tools = ["zod"], ["typescript", "@types/node"]
    for chosen_runtime, chosen_tools in (FRAMEWORK_PACKAGES[framework], ORM_PACKAGES[database]):
        runtime += chosen_runtime
        tools += chosen_tools
    runtime += AUTH_PACKAGES[authentication]
    if framework == "Hapi" and authentication != "None":
        runtime.append("@hapi/boom")  # the errors a Hapi auth scheme answers with
    if persona == "security":
        runtime += SECURITY_PACKAGES[framework][0]
        tools += SECURITY_PACKAGES[framework][1]
    scripts = {
        "build": "tsc -p tsconfig.json",
        "typecheck": "tsc --noEmit -p tsconfig.json",
        "start": "node dist/src/server.js",
        "db:migrate": "node dist/src/migrate.js",
        "test": "tsc -p tsconfig.json && node --test --test-concurrency=1 dist/tests/",
    }
    if database == "Prisma":
        scripts["db:generate"] = "prisma generate"
    return {
        "name": api_name,
        "private": True,
        "version": "0.1.0",
        "type": "module",
        "engines": {"node": NODE_ENGINES},
        "scripts": scripts,
        "dependencies": {name: VERSIONS[name] for name in sorted(set(runtime))},
        "devDependencies": {name: VERSIONS[name] for name in sorted(set(tools))},
    }
