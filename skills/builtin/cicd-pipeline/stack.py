"""What a project is built with, read from its own files: the commands its pipeline runs.

Node projects: ``package.json`` scripts and the lockfile's package manager. Python projects:
``pyproject.toml`` (extras, tool configuration, build system) and ``requirements*.txt``.
A ``Dockerfile`` adds an image build. Reading goes through the workspace, so the dry run
and the real run see the same project.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from skills.context import StepContext

DEFAULT_NODE_VERSION = "22"
DEFAULT_PYTHON_VERSION = "3.12"
PYTHON_VERSIONS = ("3.13", "3.12", "3.11", "3.10", "3.9")  # newest first: the newest allowed wins
NPM_PLACEHOLDER_TEST = 'echo "Error: no test specified" && exit 1'


@dataclass(frozen=True)
class PackageManager:
    name: str
    lockfile: str
    install_locked: str
    install_unlocked: str
    run: str
    audit: str


PACKAGE_MANAGERS = (
    PackageManager("npm", "package-lock.json", "npm ci", "npm install", "npm run", "npm audit --audit-level=high"),
    PackageManager("pnpm", "pnpm-lock.yaml", "pnpm install --frozen-lockfile", "pnpm install", "pnpm run", "pnpm audit --audit-level high"),
    PackageManager("yarn", "yarn.lock", "yarn install --frozen-lockfile", "yarn install", "yarn run", "yarn audit --level high"),
)


@dataclass(frozen=True)
class Toolchain:
    """A language runtime and the project's own commands (shell lines, run at the project root)."""

    language: Literal["node", "python"]
    version: str
    package_manager: str
    install: tuple[str, ...]
    lint: tuple[str, ...] = ()
    test: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    audit: tuple[str, ...] = ()
    cache_files: tuple[str, ...] = ()  # the files whose hash keys the dependency cache

    @property
    def image(self) -> str:
        """The official container image for this runtime (GitLab jobs, Jenkins agents)."""
        return f"node:{self.version}" if self.language == "node" else f"python:{self.version}"


@dataclass(frozen=True)
class ProjectStack:
    toolchain: Toolchain | None
    dockerfile: bool

    def describe(self) -> str:
        parts = []
        if self.toolchain:
            parts.append(f"{self.toolchain.language} {self.toolchain.version} ({self.toolchain.package_manager})")
        if self.dockerfile:
            parts.append("Dockerfile")
        return ", ".join(parts) or "nothing recognisable"


def detect_stack(ctx: StepContext) -> ProjectStack:
    if _exists(ctx, "package.json"):
        toolchain: Toolchain | None = _node_toolchain(ctx)
    elif _exists(ctx, "pyproject.toml") or _exists(ctx, "requirements.txt"):
        toolchain = _python_toolchain(ctx)
    else:
        toolchain = None
    return ProjectStack(toolchain, _exists(ctx, "Dockerfile"))


def _node_toolchain(ctx: StepContext) -> Toolchain:
    manifest = json.loads(ctx.workspace.read_text(ctx.file("package.json")))
    scripts: dict[str, str] = manifest.get("scripts", {})
    manager = next((pm for pm in PACKAGE_MANAGERS if _exists(ctx, pm.lockfile)), PACKAGE_MANAGERS[0])
    locked = _exists(ctx, manager.lockfile)

    def script(name: str) -> tuple[str, ...]:
        present = name in scripts and scripts[name].strip() != NPM_PLACEHOLDER_TEST
        return (f"{manager.run} {name}",) if present else ()

    return Toolchain(
        language="node",
        version=_version_file(ctx, ".nvmrc", ".node-version") or DEFAULT_NODE_VERSION,
        package_manager=manager.name,
        install=(manager.install_locked if locked else manager.install_unlocked,),
        lint=script("lint"),
        test=script("test"),
        build=script("build"),
        audit=(manager.audit,),
        cache_files=(manager.lockfile,) if locked else ("package.json",),
    )


def _python_toolchain(ctx: StepContext) -> Toolchain:
    pyproject: dict[str, Any] = {}
    if _exists(ctx, "pyproject.toml"):
        pyproject = tomllib.loads(ctx.workspace.read_text(ctx.file("pyproject.toml")))
    project = pyproject.get("project", {})
    tools = pyproject.get("tool", {})
    extras = project.get("optional-dependencies", {})
    declared = " ".join([*project.get("dependencies", []), *(d for group in extras.values() for d in group)])
    requirements = [name for name in ("requirements.txt", "requirements-dev.txt") if _exists(ctx, name)]
    for name in requirements:
        declared += " " + ctx.workspace.read_text(ctx.file(name))

    install = ["python -m pip install --upgrade pip"]
    install += [f"python -m pip install -r {name}" for name in requirements]
    if project:
        extra = next((name for name in ("test", "tests", "dev") if name in extras), None)
        install.append(f'python -m pip install -e ".[{extra}]"' if extra else "python -m pip install -e .")

    def tool(name: str, command: str, configured: bool) -> tuple[str, ...]:
        """``command``, preceded by installing ``name`` when the project does not declare it."""
        if not (configured or _declares(declared, name)):
            return ()
        return (command,) if _declares(declared, name) else (f"python -m pip install {name}", command)

    lint = tool("ruff", "python -m ruff check .", "ruff" in tools) or tool("flake8", "python -m flake8", _exists(ctx, ".flake8"))
    test = tool("pytest", "python -m pytest", "pytest" in tools or _exists(ctx, "tests"))
    build = ("python -m pip install build", "python -m build") if "build-system" in pyproject else ()
    return Toolchain(
        language="python",
        version=_version_file(ctx, ".python-version") or _python_version(project.get("requires-python")),
        package_manager="pip",
        install=tuple(install),
        lint=lint,
        test=test,
        build=build,
        audit=("python -m pip install pip-audit", "python -m pip_audit"),
        cache_files=tuple(name for name in ("pyproject.toml", *requirements) if _exists(ctx, name)),
    )


def _declares(requirements: str, name: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", requirements, re.IGNORECASE) is not None


def _python_version(requires: str | None) -> str:
    if not requires:
        return DEFAULT_PYTHON_VERSION
    try:
        allowed = SpecifierSet(requires)
    except InvalidSpecifier:
        return DEFAULT_PYTHON_VERSION
    return next((version for version in PYTHON_VERSIONS if allowed.contains(version)), DEFAULT_PYTHON_VERSION)


def _version_file(ctx: StepContext, *names: str) -> str | None:
    """A runtime version pinned in a file such as ``.nvmrc`` (numeric versions only)."""
    for name in names:
        if _exists(ctx, name):
            version = ctx.workspace.read_text(ctx.file(name)).strip().removeprefix("v")
            if re.fullmatch(r"\d+(\.\d+){0,2}", version):
                return version
    return None


def _exists(ctx: StepContext, name: str) -> bool:
    return ctx.workspace.exists(ctx.file(name))
