"""REST API Design for real: install, type-check, migrate PostgreSQL, serve, and run the API's own tests.

Each test creates its own database on the PostgreSQL at 127.0.0.1:5432 and drops it at the
end. npm's cache lives in ``<repo>/.cache/npm``, so only the first run downloads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from skills.catalog import load_builtin_catalog
from skills.definition import PERSONAS
from tests.conftest import free_port
from tests.skill_runner import dry_run, execute_steps, files_on_disk
from tests.test_rest_api_plan import COMBINATIONS

pytestmark = pytest.mark.slow

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
SECRETS = {"JWT_SECRET": "an-end-to-end-secret-of-32-characters-or-more", "API_KEYS": "e2e-key"}
CREDENTIALS = {"JWT": None, "API Key": {"x-api-key": "e2e-key"}, "None": {}}
BOOK = {"name": "book", "fields": {"title": "string", "pages": "integer", "price": "number", "inPrint": "boolean"}}


def psql(sql: str) -> None:
    subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql], check=True)


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"api_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    yield f"{POSTGRES}/{name}"
    psql(f"DROP DATABASE {name} WITH (FORCE)")


def npm(project: Path, *argv: str, env: dict[str, str]) -> str:
    completed = subprocess.run(
        ["npm", *argv], cwd=project, capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )
    assert completed.returncode == 0, f"npm {' '.join(argv)} failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    return completed.stdout


def jwt_for(project: Path, secret: str) -> str:
    """A token signed with the project's own jose, as the API's issuer would."""
    script = (
        "import { SignJWT } from 'jose';"
        "const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('e2e')"
        ".setIssuer('books-api').setAudience('books-api').setExpirationTime('5m')"
        f".sign(new TextEncoder().encode('{secret}'));"
        "console.log(token);"
    )
    return subprocess.run(["node", "--input-type=module", "-e", script], cwd=project, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize(
    ("framework", "authentication", "database", "persona"),
    [
        ("Express", "JWT", "Prisma", "security"),
        ("Fastify", "API Key", "TypeORM", "devops"),
        ("Hapi", "None", "Sequelize", "architect"),
    ],
)
def test_generated_api_type_checks_serves_crud_on_postgres_and_passes_its_tests(
    tmp_path: Path, database_url: str, framework: str, authentication: str, database: str, persona: str
) -> None:
    skill = load_builtin_catalog().get("rest-api")
    values = {"apiName": "books-api", "framework": framework, "authentication": authentication, "database": database, "resources": [BOOK]}
    plan = dry_run(skill, values, persona, tmp_path)

    execution = execute_steps(skill, values, persona, tmp_path)

    project = tmp_path / "books-api"
    generated_client = project / "src" / "generated" / "prisma"
    written = {f for f in files_on_disk(project) if not Path(tmp_path, f).is_relative_to(generated_client)}
    assert set(plan.files) == execution.files == written
    assert generated_client.is_dir() == (database == "Prisma") == ("books-api/src/generated/prisma" in execution.directories)

    env = {"DATABASE_URL": database_url, **SECRETS}
    npm(project, "run", "typecheck", env=env)
    assert "# fail 0" in npm(project, "test", env=env)

    npm(project, "run", "db:migrate", env=env)
    port = free_port()
    server = subprocess.Popen(
        ["npm", "start"], cwd=project, env={**os.environ, **env, "PORT": str(port)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/books", server)
        credentials = CREDENTIALS[authentication]
        headers = {"authorization": f"Bearer {jwt_for(project, SECRETS['JWT_SECRET'])}"} if credentials is None else credentials
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            book = {"title": "Dune", "pages": 412, "price": 9.5, "inPrint": True}
            created = client.post("/books", json=book)
            assert created.status_code == 201, created.text
            book_id = created.json()["id"]
            assert {k: created.json()[k] for k in book} == book
            assert client.get(f"/books/{book_id}").json() == created.json()
            assert [b["id"] for b in client.get("/books").json()] == [book_id]
            assert client.patch(f"/books/{book_id}", json={"pages": 500}).json()["pages"] == 500
            assert client.post("/books", json={"title": ""}).status_code == 400
            assert client.delete(f"/books/{book_id}").status_code == 204
            assert client.get(f"/books/{book_id}").status_code == 404
        unauthenticated = httpx.get(base + "/books", timeout=10)
        assert unauthenticated.status_code == (200 if authentication == "None" else 401)
        if persona == "devops":
            assert httpx.get(base + "/ready", timeout=10).json() == {"status": "ready"}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=15)


def _wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the API exited early:\n{server.stdout.read().decode() if server.stdout else ''}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"the API did not answer {url} within {seconds} s")


def test_every_combination_type_checks(tmp_path: Path) -> None:
    """All 36 framework/auth/ORM combinations, one persona each, in one strict TypeScript program.

    One install of every package the generated projects declare sits in their parent folder,
    where Node's resolution finds it from each project (one install instead of 36). The
    programme uses the strictest options a persona generates (ai-engineer's, in api-00), so
    passing here means each project's own `npm run typecheck` passes too.
    """
    skill = load_builtin_catalog().get("rest-api")
    resources = [BOOK, {"name": "category", "fields": {"label": "string", "notes": "text", "launchedAt": "datetime"}}]
    dependencies: dict[str, str] = {}
    for index, (framework, authentication, database) in enumerate(COMBINATIONS):
        name = f"api-{index:02d}"
        values = {"apiName": name, "framework": framework, "authentication": authentication, "database": database,
                  "resources": resources, "installDependencies": False}
        execute_steps(skill, values, PERSONAS[index % len(PERSONAS)], tmp_path, execution_id=name)
        manifest = json.loads((tmp_path / name / "package.json").read_text())
        dependencies.update(manifest["dependencies"], **manifest["devDependencies"])
    (tmp_path / "package.json").write_text(json.dumps({"private": True, "dependencies": dependencies}))
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"], cwd=tmp_path, check=True, capture_output=True, timeout=600)
    for project in sorted(tmp_path.glob("api-*")):
        if (project / "prisma" / "schema.prisma").exists():
            subprocess.run(
                [str(tmp_path / "node_modules/.bin/prisma"), "generate"], cwd=project, check=True, capture_output=True,
                env={**os.environ, "PRISMA_SCHEMA_ENGINE_BINARY": shutil.which("true") or "true"},
            )
    strictest = json.loads((tmp_path / "api-00" / "tsconfig.json").read_text())["compilerOptions"]
    assert strictest["noUncheckedIndexedAccess"] is True
    (tmp_path / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {**strictest, "noEmit": True}, "include": ["api-*/src", "api-*/tests"],
    }))

    checked = subprocess.run([str(tmp_path / "node_modules/.bin/tsc"), "-p", "."], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert checked.returncode == 0, checked.stdout[-6000:]
