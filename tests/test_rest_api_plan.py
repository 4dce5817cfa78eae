"""REST API Design: the dry run lists exactly what the real run creates, for every choice.

``installDependencies`` is off here (no npm); ``test_rest_api_npm.py`` installs the generated
APIs, type-checks them, runs them against PostgreSQL and runs their own tests.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from skills.catalog import load_builtin_catalog, step_functions
from skills.context import StepContext
from skills.definition import PERSONAS, SkillDefinition
from skills.errors import StepError
from skills.planning import preflight
from skills.workspace import Workspace
from tests.skill_runner import dry_run, execute_steps, files_on_disk

FRAMEWORKS = ("Express", "Fastify", "Hapi")
AUTHENTICATIONS = ("JWT", "OAuth2", "API Key", "None")
DATABASES = ("Prisma", "TypeORM", "Sequelize")
COMBINATIONS = list(itertools.product(FRAMEWORKS, AUTHENTICATIONS, DATABASES))
BOOK = {"name": "book", "fields": {"title": "string", "pages": "integer", "published": "datetime"}}


@pytest.fixture(scope="module")
def skill() -> SkillDefinition:
    return load_builtin_catalog().get("rest-api")


def parameters(**overrides: Any) -> dict[str, Any]:
    return {"apiName": "shop-api", "installDependencies": False, **overrides}


@pytest.mark.parametrize(("framework", "authentication", "database"), COMBINATIONS)
def test_dry_run_lists_exactly_what_execution_creates(
    skill: SkillDefinition, tmp_path: Path, framework: str, authentication: str, database: str
) -> None:
    persona = PERSONAS[COMBINATIONS.index((framework, authentication, database)) % len(PERSONAS)]
    values = parameters(framework=framework, authentication=authentication, database=database)
    plan = dry_run(skill, values, persona, tmp_path)

    execution = execute_steps(skill, values, persona, tmp_path)

    assert set(plan.files) == execution.files == files_on_disk(tmp_path / "shop-api")
    assert plan.persona_changes == execution.persona_changes


def test_files_follow_the_framework_auth_and_orm(skill: SkillDefinition, tmp_path: Path) -> None:
    plan = dry_run(skill, parameters(resources=[BOOK]), "full-stack", tmp_path)

    assert sorted(plan.files) == [
        f"shop-api/{name}"
        for name in sorted([
            ".env.example", ".gitignore", "README.md", "openapi.json", "package.json", "prisma.config.ts",
            "prisma/migrations/0_init/migration.sql", "prisma/migrations/migration_lock.toml", "prisma/schema.prisma",
            "src/app.ts", "src/auth.ts", "src/config.ts", "src/crud.ts", "src/db/connection.ts", "src/migrate.ts",
            "src/repositories/book.ts", "src/schemas/book.ts", "src/server.ts", "tests/api.test.ts", "tsconfig.json",
        ])
    ]
    assert plan.commands == []


def test_installing_runs_npm_once_and_generates_the_prisma_client_offline(skill: SkillDefinition, tmp_path: Path) -> None:
    prisma = dry_run(skill, parameters(installDependencies=True), "full-stack", tmp_path)
    sequelize = dry_run(skill, parameters(installDependencies=True, database="Sequelize"), "full-stack", tmp_path)

    assert prisma.commands == ["npm install --no-audit --no-fund --prefer-offline", "npx --no-install prisma generate"]
    assert sequelize.commands == ["npm install --no-audit --no-fund --prefer-offline"]
    assert "shop-api/package-lock.json" in prisma.files


def test_package_json_brings_only_what_the_choices_use(skill: SkillDefinition, tmp_path: Path) -> None:
    values = parameters(framework="Hapi", authentication="OAuth2", database="Sequelize")
    execute_steps(skill, values, "security", tmp_path)

    manifest = json.loads((tmp_path / "shop-api" / "package.json").read_text())

    assert sorted(manifest["dependencies"]) == ["@hapi/boom", "@hapi/hapi", "jose", "pg", "pg-hstore", "sequelize", "zod"]
    assert sorted(manifest["devDependencies"]) == ["@types/node", "@types/pg", "typescript"]
    assert manifest["scripts"]["test"] == "tsc -p tsconfig.json && node --test --test-concurrency=1 dist/tests/"


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([], "resources: needs at least one resource"),
        ([{"name": "Book", "fields": {"title": "string"}}], "resources.0.name: 'Book' is not a resource name"),
        ([{"name": "book", "fields": {"price": "money"}}], "resources.0.fields.price: 'money' is not a field type"),
        ([{"name": "book", "fields": {"id": "integer"}}], "resources.0.fields.id: is added to every resource already"),
        ([{"name": "book", "fields": {"page-count": "integer"}}], "resources.0.fields.page-count: is not a field name"),
        ([BOOK, BOOK], "resources.1.name: 'book' is used by more than one resource"),
        ([{"name": "book"}], "resources.0.fields: must map at least one field name to a type"),
    ],
)
def test_validate_specification_names_the_bad_resource_field(
    skill: SkillDefinition, tmp_path: Path, resources: list[Any], message: str
) -> None:
    checked = preflight(skill, parameters(resources=resources), "expert", "full-stack", tmp_path)
    context = StepContext(skill, checked.values, "expert", "full-stack", Workspace(tmp_path))

    with pytest.raises(StepError) as raised:
        step_functions(skill)["validate-specification"](context)

    assert message in raised.value.message
    assert not (tmp_path / "shop-api").exists()


@pytest.mark.parametrize(
    ("persona", "path", "evidence"),
    [
        ("security", "src/app.ts", "app.use(helmet());"),
        ("security", "src/app.ts", "cors({ origin: config.corsOrigins })"),
        ("security", "src/app.ts", "isRateLimited(request.ip"),
        ("security", "src/schemas/book.ts", "z.strictObject({"),
        ("devops", "src/app.ts", 'app.get("/health"'),
        ("devops", "src/app.ts", 'logger.info("request"'),
        ("architect", "src/modules/book/book.repository.ts", 'from "../../db/connection.js"'),
        ("ai-engineer", "tsconfig.json", '"noUncheckedIndexedAccess": true'),
    ],
)
def test_persona_changes_are_listed_and_made(
    skill: SkillDefinition, tmp_path: Path, persona: str, path: str, evidence: str
) -> None:
    plan = dry_run(skill, parameters(resources=[BOOK]), persona, tmp_path)
    execute_steps(skill, parameters(resources=[BOOK]), persona, tmp_path)

    assert plan.persona_changes
    assert evidence in (tmp_path / "shop-api" / path).read_text()


def test_openapi_document_describes_every_route_and_the_credentials(skill: SkillDefinition, tmp_path: Path) -> None:
    author = {"name": "category", "fields": {"label": "string"}}
    execute_steps(skill, parameters(resources=[BOOK, author], authentication="API Key"), "devops", tmp_path)

    document = json.loads((tmp_path / "shop-api" / "openapi.json").read_text())

    assert document["openapi"] == "3.1.0"
    assert sorted(document["paths"]) == ["/books", "/books/{id}", "/categories", "/categories/{id}", "/health", "/ready"]
    assert sorted(document["paths"]["/books/{id}"]) == ["delete", "get", "parameters", "patch"]
    assert document["components"]["securitySchemes"] == {"credentials": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    assert document["components"]["schemas"]["BookCreate"] == {
        "type": "object",
        "required": ["title", "pages", "published"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "pages": {"type": "integer", "format": "int32"},
            "published": {"type": "string", "format": "date-time"},
        },
    }
    assert "401" in document["paths"]["/books"]["get"]["responses"]
    assert document["paths"]["/health"]["get"]["security"] == []


def test_undo_removes_everything_the_execution_created(skill: SkillDefinition, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("untouched")
    execution = execute_steps(skill, parameters(database="TypeORM"), "architect", tmp_path)

    report = execution.journal.undo()

    assert report.conflicts == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".skillworks", "other"]
