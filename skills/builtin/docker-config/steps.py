"""Steps of the Docker Configuration skill: a Dockerfile for the app type, a docker-compose.yml
with the chosen database and Redis, a .dockerignore; then a real build and a container smoke
test on the Docker Engine that ``DOCKER_HOST`` names.

Which files are written follows from the parameters, the persona and the project's own
files (read-only), never from the engine, so the dry run lists exactly what the run creates.
"""

from __future__ import annotations

import json
import re
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import yaml

from skills import docker_engine
from skills.context import StepContext
from skills.errors import StepError

# Official images, pinned to the release lines current when this skill was last updated.
# Rolling minor tags get security fixes; pin a digest in your own registry for byte-exact builds.
IMAGES = {
    "node": "node:24-alpine3.22",
    "python": "python:3.13-slim-bookworm",
    "maven": "maven:3.9-eclipse-temurin-21",
    "gradle": "gradle:8.14-jdk21-alpine",
    "java": "eclipse-temurin:21-jre-alpine",
    "golang": "golang:1.25-alpine3.22",
    "alpine": "alpine:3.22",
    "postgres": "postgres:17-alpine",
    "mongo": "mongo:8.0",
    "mysql": "mysql:8.4",
    "redis": "redis:7.4-alpine",
}
NON_ROOT_UID = "10001:10001"  # numeric: needs no account in the image, and hosts can resolve it
HEALTH_PATH = "/health"


@dataclass(frozen=True)
class AppType:
    """How one application type is built and run."""

    key: str
    port: int
    build_image: str
    runtime_image: str
    manifests: tuple[tuple[str, ...], ...]  # alternatives: the first whose files exist wins
    ignore: tuple[str, ...]  # noise, never worth sending to the engine
    build_outputs: tuple[str, ...]  # rebuilt in the image, so left out of the context
    start_instruction: str = "CMD"
    env: str = ""

    def healthcheck(self) -> list[str]:
        url = f"http://127.0.0.1:{self.port}{HEALTH_PATH}"
        if self.key == "node":
            return ["node", "-e", f"fetch('{url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
        if self.key == "python":
            return ["python", "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=4)"]
        return ["wget", "-q", "--spider", url]  # busybox wget, in every Alpine image


APP_TYPES = {
    "Node.js": AppType(
        "node", 3000, IMAGES["node"], IMAGES["node"],
        manifests=(("package.json", "package-lock.json"), ("package.json",)),
        ignore=("npm-debug.log*", "coverage", ".npm"), build_outputs=("node_modules",),
        env="NODE_ENV=production",
    ),
    "Python": AppType(
        "python", 8000, IMAGES["python"], IMAGES["python"],
        manifests=(("requirements.txt",), ("pyproject.toml",)),
        ignore=("__pycache__", "*.py[cod]", ".pytest_cache", ".mypy_cache", ".coverage"),
        build_outputs=(".venv", "venv"), env="PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
    ),
    "Java": AppType(
        "java", 8080, IMAGES["maven"], IMAGES["java"],
        manifests=(("pom.xml",), ("build.gradle.kts", "settings.gradle.kts"), ("build.gradle", "settings.gradle"),
                   ("build.gradle.kts",), ("build.gradle",)),
        ignore=("*.iml", ".mvn/wrapper/maven-wrapper.jar"), build_outputs=("target", "build", ".gradle"),
    ),
    "Go": AppType(
        "go", 8080, IMAGES["golang"], IMAGES["alpine"],
        manifests=(("go.mod", "go.sum"), ("go.mod",)),
        ignore=("*.test", "coverage.out"), build_outputs=("bin",), start_instruction="ENTRYPOINT",
    ),
}


@dataclass(frozen=True)
class Database:
    service: str
    image: str
    data_path: str
    environment: dict[str, str]
    healthcheck: list[str]
    url: str  # as the app sees it inside the compose network


def database_of(name: str, password: str) -> Database:
    if name == "MongoDB":
        return Database(
            "mongo", IMAGES["mongo"], "/data/db",
            {"MONGO_INITDB_ROOT_USERNAME": "app", "MONGO_INITDB_ROOT_PASSWORD": password},
            ["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping').ok"],
            f"mongodb://app:{password}@mongo:27017/app?authSource=admin",
        )
    if name == "MySQL":
        return Database(
            "mysql", IMAGES["mysql"], "/var/lib/mysql",
            {"MYSQL_DATABASE": "app", "MYSQL_USER": "app", "MYSQL_PASSWORD": password, "MYSQL_RANDOM_ROOT_PASSWORD": "yes"},
            ["CMD-SHELL", "mysqladmin ping -h 127.0.0.1 -u app --password=\"$$MYSQL_PASSWORD\" --silent"],
            f"mysql://app:{password}@mysql:3306/app",
        )
    return Database(
        "postgres", IMAGES["postgres"], "/var/lib/postgresql/data",
        {"POSTGRES_DB": "app", "POSTGRES_USER": "app", "POSTGRES_PASSWORD": password},
        ["CMD-SHELL", "pg_isready -U app -d app"],
        f"postgresql://app:{password}@postgres:5432/app",
    )


@dataclass
class Build:
    """What the Dockerfile template sees: the app type, resolved for this project and ``baseImage``."""

    app: AppType
    prebuilt: bool
    runtime_image: str
    build_image: str
    manifests: list[str]
    command: list[str]
    install: str = ""
    tool: str = ""


def app_type(ctx: StepContext) -> AppType:
    return APP_TYPES[ctx.params["appType"]]


def project_build(ctx: StepContext) -> Build:
    """The app type, applied to the project's own files (read-only inspection)."""
    app = app_type(ctx)
    base_image = ctx.params.get("baseImage") or ""
    manifests = next((list(files) for files in app.manifests if all(_exists(ctx, f) for f in files)), [])
    build = Build(
        app=app,
        prebuilt=bool(base_image),
        runtime_image=base_image or app.runtime_image,
        build_image=app.build_image,
        manifests=manifests,
        command=_start_command(ctx, app),
    )
    if app.key == "node":
        build.install = "npm ci --omit=dev" if "package-lock.json" in manifests else "npm install --omit=dev"
    if app.key == "java":
        build.tool = "maven" if manifests == ["pom.xml"] else "gradle"
        build.build_image = IMAGES[build.tool]
    return build


def _exists(ctx: StepContext, name: str) -> bool:
    return ctx.workspace.exists(ctx.file(name))


def _start_command(ctx: StepContext, app: AppType) -> list[str]:
    if app.key == "node":
        return ["node", _node_entry(ctx)]
    if app.key == "python":
        return ["python", next((n for n in ("main.py", "app.py") if _exists(ctx, n)), "main.py")]
    if app.key == "java":
        return ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/app.jar"]
    return ["/app/server"]


def _node_entry(ctx: StepContext) -> str:
    if _exists(ctx, "package.json"):
        main = json.loads(ctx.workspace.read_text(ctx.file("package.json"))).get("main")
        if isinstance(main, str) and main:
            return main
    return next((n for n in ("server.js", "index.js", "app.js") if _exists(ctx, n)), "index.js")


def image_name(ctx: StepContext) -> str:
    """``<project folder>:latest``, the name compose gives the app's image too."""
    folder = ctx.workspace.path(ctx.target).name
    return (re.sub(r"[^a-z0-9._-]+", "-", folder.lower()).strip("-._") or "app") + ":latest"


# ---- steps ---------------------------------------------------------------------------------


def validate_parameters(ctx: StepContext) -> dict[str, Any]:
    """The project folder must hold the manifests its app type builds from (unless prebuilt)."""
    build = project_build(ctx)
    if not build.prebuilt and not build.manifests:
        wanted = " or ".join(" + ".join(files) for files in build.app.manifests[::-1][:2])
        raise StepError(
            f"{ctx.params['appType']} projects are built from {wanted}, and {ctx.target}/ has none.",
            [
                "Choose the appType that matches the project, or add its manifest.",
                "For a project that is already built, set baseImage to the image that runs it.",
            ],
        )
    ctx.log(f"{ctx.params['appType']} project in {ctx.target}/ (" + (", ".join(build.manifests) or "prebuilt") + ")")
    return {"target": ctx.target, "manifests": build.manifests, "image": image_name(ctx)}


def check_docker(ctx: StepContext) -> dict[str, Any]:
    """Ask the engine at DOCKER_HOST who it is (a read-only query, in the dry run too)."""
    with closing(docker_engine.connect()) as client:
        info = docker_engine.describe_engine(client)
    ctx.log(f"{info.name} {info.version} (API {info.api_version}, {info.platform}) at {info.url}")
    return {"engine": info.name, "version": info.version, "apiVersion": info.api_version, "url": info.url}


def create_dockerfile(ctx: StepContext) -> dict[str, Any]:
    build = project_build(ctx)
    template = "Dockerfile-prebuilt.j2" if build.prebuilt else f"Dockerfile-{build.app.key}.j2"
    text = ctx.render(template, app=_template_view(build), facts=build, image=image_name(ctx))
    ctx.workspace.write_text(ctx.file("Dockerfile"), text)
    return {"dockerfile": ctx.file("Dockerfile"), "baseImage": build.runtime_image}


def _template_view(build: Build) -> dict[str, Any]:
    app = build.app
    return {
        "port": app.port, "user": NON_ROOT_UID, "env": app.env,
        # Exec form is JSON; json.dumps keeps quotes readable where Jinja's tojson escapes them.
        "healthcheck": json.dumps(app.healthcheck()), "command": json.dumps(build.command),
        "start_instruction": app.start_instruction,
        "build_image": build.build_image, "runtime_image": build.runtime_image,
    }


def create_compose_file(ctx: StepContext) -> dict[str, Any]:
    document = compose_document(ctx)
    header = "# Generated by skillworks docker-config. Start: docker compose up --build\n"
    ctx.workspace.write_text(ctx.file("docker-compose.yml"), header + yaml.safe_dump(document, sort_keys=False, width=1000))
    return {"services": list(document["services"]), "file": ctx.file("docker-compose.yml")}


def compose_document(ctx: StepContext) -> dict[str, Any]:
    app = app_type(ctx)
    security, devops = ctx.persona == "security", ctx.persona == "devops"
    if security:
        ctx.persona_change("app runs with a read-only root filesystem, all capabilities dropped, no-new-privileges")
        ctx.persona_change("database password must come from the environment (no default)")
    if devops:
        ctx.persona_change("every service gets a healthcheck, log rotation and CPU/memory limits")
    service: dict[str, Any] = {
        "build": {"context": ".", "dockerfile": "Dockerfile"},
        "image": image_name(ctx),
        "ports": [f"{app.port}:{app.port}"],
        "restart": "unless-stopped",
    }
    services: dict[str, Any] = {"app": service}
    environment: dict[str, str] = {}
    volumes: dict[str, Any] = {}
    if ctx.params.get("includeDatabase"):
        password = "${DB_PASSWORD:?set DB_PASSWORD}" if security else "${DB_PASSWORD:-change-me}"
        database = database_of(ctx.params["database"], password)
        services[database.service] = _backing_service(database.image, database.environment, database.healthcheck,
                                                      f"{database.service}-data:{database.data_path}")
        environment["DATABASE_URL"] = database.url
        volumes[f"{database.service}-data"] = {}
    if ctx.params.get("includeRedis"):
        services["redis"] = _backing_service(IMAGES["redis"], {}, ["CMD", "redis-cli", "ping"], "redis-data:/data")
        services["redis"]["command"] = ["redis-server", "--appendonly", "yes"]
        environment["REDIS_URL"] = "redis://redis:6379/0"
        volumes["redis-data"] = {}
    if environment:
        service["environment"] = environment
        service["depends_on"] = {name: {"condition": "service_healthy"} for name in services if name != "app"}
    if security:
        service.update(read_only=True, tmpfs=["/tmp"], cap_drop=["ALL"], security_opt=["no-new-privileges:true"])
    if devops:
        service["healthcheck"] = _healthcheck(["CMD", *app.healthcheck()])
        for each in services.values():
            each["logging"] = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
        service["deploy"] = {"resources": {"limits": {"cpus": "1.0", "memory": "512M"}}}
    document: dict[str, Any] = {"services": services}
    if volumes:
        document["volumes"] = volumes
    return document


def _backing_service(image: str, environment: dict[str, str], test: list[str], volume: str) -> dict[str, Any]:
    service: dict[str, Any] = {"image": image, "restart": "unless-stopped"}
    if environment:
        service["environment"] = environment
    service.update(volumes=[volume], healthcheck=_healthcheck(test))
    return service


def _healthcheck(test: list[str]) -> dict[str, Any]:
    return {"test": test, "interval": "10s", "timeout": "5s", "retries": 5, "start_period": "30s"}


def create_dockerignore(ctx: StepContext) -> dict[str, Any]:
    build = project_build(ctx)
    # A prebuilt project ships its build outputs (node_modules, the binary): keep them in the context.
    patterns = build.app.ignore if build.prebuilt else build.app.ignore + build.app.build_outputs
    ctx.workspace.write_text(ctx.file(".dockerignore"), ctx.render("dockerignore.j2", app={"ignore": patterns}))
    return {"patterns": len(patterns)}


def build_image(ctx: StepContext) -> dict[str, Any]:
    """Build with the engine's build API, streaming the log; the new image is journaled for rollback."""
    tag = image_name(ctx)
    if ctx.pretend:
        return {"image": tag}
    with closing(docker_engine.connect(timeout=ctx.step_timeout)) as client:
        previous = docker_engine.image_id_of(client, tag)
        image_id = docker_engine.build_image(client, ctx.workspace.path(ctx.target), tag, ctx.log)
    # An identical image that existed before the build is not ours to remove on rollback.
    if image_id != previous:
        ctx.journal_built_image(image_id)
    ctx.log(f"Built {tag} ({image_id[:19]})")
    return {"image": tag, "imageId": image_id}


def test_container(ctx: StepContext) -> dict[str, Any]:
    """Start the built image, wait until healthy or answering its HEALTHCHECK, stop and remove it."""
    hardening: dict[str, Any] = {}
    if ctx.persona == "security":
        ctx.persona_change("the container check runs read-only, without capabilities, as compose will")
        hardening = {"read_only": True, "tmpfs": {"/tmp": ""}, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}
    if ctx.pretend:
        return {"image": image_name(ctx)}
    image_id = ctx.outputs["build-image"]["imageId"]
    with closing(docker_engine.connect(timeout=ctx.step_timeout)) as client:
        check = docker_engine.check_container(client, image_id, ctx.step_timeout, ctx.log, **hardening)
    ctx.log(f"Container {check.status} after {check.seconds} s")
    return {"status": check.status, "seconds": check.seconds}
