"""Reading a project's dependencies from its manifests and lockfiles.

npm: ``package.json``, ``package-lock.json`` (lockfile versions 1 to 3), ``yarn.lock`` (v1 and
Berry) and ``pnpm-lock.yaml`` (``js_lockfiles``). PyPI:
``requirements*.txt``, ``pyproject.toml`` (PEP 621 and Poetry), ``poetry.lock`` and
``uv.lock``. A dependency has an exact ``version`` only where the file pins one; ranges
keep ``version=None`` and are judged by ``dependencies`` offline.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from skills.audit.js_lockfiles import JS_LOCKFILE_READERS
from skills.audit.project_files import line_of, project_files

Ecosystem = Literal["npm", "PyPI"]

NPM_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
PYTHON_LOCKFILES = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock")
_NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")
_EXACT_SEMVER = re.compile(r"^[=v]?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")


@dataclass(frozen=True)
class Dependency:
    """One dependency as one file declares it.

    ``spec`` is the declared constraint (``^4.17.0``, ``>=2.0``, ``""`` for none);
    ``version`` the exact version, where the file fixes one.
    """

    ecosystem: Ecosystem
    name: str
    spec: str
    version: str | None
    source: str
    line: int | None = None
    locked: bool = False  # from a lockfile (resolved), not a manifest (declared)
    install_script: bool = False  # npm lockfiles mark packages whose install runs scripts


@dataclass
class ManifestScan:
    """Everything read from one project: dependencies, the files read, and files skipped as unreadable."""

    dependencies: list[Dependency] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    folders_without_lockfile: dict[str, Ecosystem] = field(default_factory=dict)


def is_manifest(path: str) -> bool:
    name = PurePosixPath(path).name
    return name in _READERS or (name.startswith("requirements") and name.endswith(".txt"))


def scan_manifests(root: Path) -> ManifestScan:
    """Read every manifest and lockfile under ``root`` (lockfiles first, so they name each package first)."""
    scan = ManifestScan()
    paths = [path for path in project_files(root) if is_manifest(path)]
    paths.sort(key=lambda path: (PurePosixPath(path).name not in (*NPM_LOCKFILES, *PYTHON_LOCKFILES), path))
    for path in paths:
        name = PurePosixPath(path).name
        reader = _READERS.get(name, _read_requirements)
        text = (root / path).read_text(encoding="utf-8", errors="replace")
        try:
            found = list(reader(path, text))
        except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as exc:
            scan.unreadable[path] = f"{type(exc).__name__}: {exc}"
            continue
        scan.files.append(path)
        scan.dependencies.extend(found)
        if found and not found[0].locked and not _has_lockfile(root, path):
            scan.folders_without_lockfile[str(PurePosixPath(path).parent)] = found[0].ecosystem
    return scan


def _has_lockfile(root: Path, manifest: str) -> bool:
    name = PurePosixPath(manifest).name
    folder = root / PurePosixPath(manifest).parent
    if name == "package.json":
        return any((folder / lockfile).is_file() for lockfile in NPM_LOCKFILES)
    if name == "pyproject.toml":
        return any((folder / lockfile).is_file() for lockfile in PYTHON_LOCKFILES)
    return True  # a requirements file is its own lock when it pins; unpinned lines are judged one by one


def npm_exact_version(spec: str) -> str | None:
    """The version an npm spec pins exactly (``1.2.3``, ``=1.2.3``, ``v1.2.3``), else None."""
    match = _EXACT_SEMVER.match(spec.strip())
    return match.group(1) if match else None


def _read_package_json(path: str, text: str) -> Iterator[Dependency]:
    manifest = json.loads(text)
    for section in _NPM_SECTIONS:
        for name, spec in (manifest.get(section) or {}).items():
            yield Dependency("npm", name, spec, npm_exact_version(spec), path, line_of(text, f'"{name}"'))


def _read_package_lock(path: str, text: str) -> Iterator[Dependency]:
    lock = json.loads(text)
    if "packages" in lock:  # lockfileVersion 2 and 3
        for key, entry in lock["packages"].items():
            if not key or entry.get("link") or "version" not in entry:
                continue
            name = entry.get("name") or key.rsplit("node_modules/", 1)[-1]
            yield _locked("npm", name, entry["version"], path, line_of(text, f'"{key}"'), entry.get("hasInstallScript", False))
        return
    yield from _lock_v1_dependencies(path, text, lock.get("dependencies") or {})


def _lock_v1_dependencies(path: str, text: str, tree: dict[str, Any]) -> Iterator[Dependency]:
    for name, entry in tree.items():
        if "version" in entry and not str(entry["version"]).startswith("file:"):
            yield _locked("npm", name, entry["version"], path, line_of(text, f'"{name}"'))
        yield from _lock_v1_dependencies(path, text, entry.get("dependencies") or {})


def _read_requirements(path: str, text: str) -> Iterator[Dependency]:
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            continue  # pip options: -r, -c, -e, --index-url, ...
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue  # URLs and paths name no registry version to check
        yield _requirement(requirement, path, number)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Requirement lines without comments, backslash continuations joined, with their first line number."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined, pending = (pending + line).strip(), ""
        if joined:
            yield start, joined.split(" --hash", 1)[0].strip()


def _requirement(requirement: Requirement, path: str, line: int | None) -> Dependency:
    specifiers = list(requirement.specifier)
    exact = specifiers[0].version if len(specifiers) == 1 and specifiers[0].operator in ("==", "===") else None
    if exact is not None and "*" in exact:
        exact = None
    return Dependency("PyPI", canonicalize_name(requirement.name), str(requirement.specifier), exact, path, line)


def _read_pyproject(path: str, text: str) -> Iterator[Dependency]:
    document = tomllib.loads(text)
    project = document.get("project") or {}
    declared = list(project.get("dependencies") or [])
    for group in (project.get("optional-dependencies") or {}).values():
        declared.extend(group)
    for group in (document.get("dependency-groups") or {}).values():
        declared.extend(item for item in group if isinstance(item, str))
    for item in declared:
        requirement = Requirement(item)
        yield _requirement(requirement, path, line_of(text, item))
    poetry = (document.get("tool") or {}).get("poetry") or {}
    sections = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    sections += [group.get("dependencies") or {} for group in (poetry.get("group") or {}).values()]
    for section in sections:
        for name, constraint in section.items():
            if name.lower() == "python":
                continue
            spec = constraint.get("version", "") if isinstance(constraint, dict) else str(constraint)
            exact = spec.lstrip("=") if re.fullmatch(r"=?=?\d[\w.!+-]*", spec) else None
            yield Dependency("PyPI", canonicalize_name(name), spec, exact, path, line_of(text, f"{name} ="))


def _read_toml_lock(path: str, text: str) -> Iterator[Dependency]:
    """``poetry.lock`` and ``uv.lock``: ``[[package]]`` tables with a name and a version."""
    for package in tomllib.loads(text).get("package") or []:
        source = package.get("source") or {}
        if "editable" in source or "virtual" in source or "version" not in package:
            continue  # the project itself, in uv.lock
        name = canonicalize_name(package["name"])
        yield _locked("PyPI", name, package["version"], path, line_of(text, f'name = "{package["name"]}"'))


def _locked(
    ecosystem: Ecosystem, name: str, version: str, path: str, line: int | None, install_script: bool = False
) -> Dependency:
    return Dependency(ecosystem, name, version, version, path, line, locked=True, install_script=install_script)


def _js_lockfile_reader(name: str) -> Callable[[str, str], Iterator[Dependency]]:
    def read(path: str, text: str) -> Iterator[Dependency]:
        for package, version, line in JS_LOCKFILE_READERS[name](text):
            yield _locked("npm", package, version, path, line)

    return read


_READERS: dict[str, Callable[[str, str], Iterator[Dependency]]] = {
    **{name: _js_lockfile_reader(name) for name in JS_LOCKFILE_READERS},
    "package.json": _read_package_json,
    "package-lock.json": _read_package_lock,
    "npm-shrinkwrap.json": _read_package_lock,
    "pyproject.toml": _read_pyproject,
    "poetry.lock": _read_toml_lock,
    "uv.lock": _read_toml_lock,
}
