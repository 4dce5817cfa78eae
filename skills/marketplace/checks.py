"""The publish checks on an unpacked skill folder, all run and all reported at once.

``SKILL.md`` parses; the version is semver and newer than what is published; every step
has its function in ``steps.py`` (found by parsing it with ``ast``: publishing never
imports a package's code); and the skill is mature enough to list: a description, at least
one test, every dependency pinned to one exact version.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import semver
from packaging.requirements import InvalidRequirement, Requirement

from skills.definition import SkillDefinition, load_skill_definition
from skills.errors import SkillDefinitionError
from skills.marketplace.errors import CheckFailure

MIN_DESCRIPTION_LENGTH = 10
DEPENDENCY_ECOSYSTEMS = ("python", "npm")
_NPM_PINNED = re.compile(r"^(?P<name>(?:@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*)@(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$")


def check_skill_folder(folder: Path, published_versions: list[str]) -> tuple[SkillDefinition | None, list[CheckFailure]]:
    """The parsed skill (None if SKILL.md does not parse) and every check that failed."""
    try:
        definition = load_skill_definition(folder)
    except (SkillDefinitionError, OSError, UnicodeDecodeError) as exc:
        return None, [CheckFailure("skill-md", str(exc), "SKILL.md", "Fix the front matter; `skillworks new` shows a valid one.")]
    failures = [
        *check_version(definition.version, published_versions),
        *check_step_functions(folder, definition),
        *check_maturity(folder, definition),
    ]
    return definition, failures


def check_version(version: str, published: list[str]) -> list[CheckFailure]:
    try:
        parsed = semver.Version.parse(version)
    except ValueError:
        return [CheckFailure("version-semver", f"{version!r} is not a semantic version", "SKILL.md", "Use MAJOR.MINOR.PATCH, e.g. 1.0.0.")]
    if version in published:
        return [CheckFailure("version-exists", f"{version} is already published and versions are immutable", "SKILL.md", "Raise the version in SKILL.md.")]
    newer = [p for p in published if _semver_or_none(p) is not None and _semver_or_none(p) >= parsed]  # type: ignore[operator]
    if newer:
        latest = max(newer, key=semver.Version.parse)
        return [CheckFailure("version-not-newer", f"{version} is not newer than the published {latest}", "SKILL.md", f"Use a version above {latest}.")]
    return []


def newest_version(versions: list[str]) -> str:
    return max(versions, key=lambda v: _semver_or_none(v) or semver.Version(0))


def _semver_or_none(version: str) -> semver.Version | None:
    try:
        return semver.Version.parse(version)
    except ValueError:
        return None


def top_level_functions(path: Path) -> set[str]:
    """Names of the functions ``path`` defines at module level, read with ``ast`` (never imported)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def check_step_functions(folder: Path, definition: SkillDefinition) -> list[CheckFailure]:
    steps_file = folder / "steps.py"
    if not steps_file.is_file():
        return [CheckFailure("steps-missing", "no steps.py", "steps.py", "Add steps.py with one function per step.")]
    try:
        defined = top_level_functions(steps_file)
    except (SyntaxError, ValueError) as exc:
        return [CheckFailure("steps-syntax", f"steps.py does not parse: {exc}", "steps.py")]
    return [
        CheckFailure(
            "step-function-missing", f"step {step.id!r} has no function {step.function_name}()", "steps.py",
            f"Define `def {step.function_name}(ctx):` in steps.py.",
        )
        for step in definition.steps
        if step.function_name not in defined
    ]


def check_maturity(folder: Path, definition: SkillDefinition) -> list[CheckFailure]:
    failures = []
    if len(definition.description.strip()) < MIN_DESCRIPTION_LENGTH:
        failures.append(CheckFailure("maturity-description", "the description is missing or too short", "SKILL.md", "Say in a sentence what the skill does."))
    if not _has_a_test(folder):
        failures.append(CheckFailure("maturity-tests", "no test: add tests/test_*.py with at least one test_ function", "tests/", "`skillworks new` writes a first test."))
    failures += check_dependency_pins(definition.dependencies)
    return failures


def _has_a_test(folder: Path) -> bool:
    for path in sorted(folder.glob("tests/test_*.py")) + sorted(folder.glob("test_*.py")):
        try:
            if any(name.startswith("test_") for name in top_level_functions(path)):
                return True
        except (SyntaxError, ValueError):
            continue
    return False


def check_dependency_pins(dependencies: dict[str, list[str]]) -> list[CheckFailure]:
    failures = []
    for ecosystem, specs in dependencies.items():
        if ecosystem not in DEPENDENCY_ECOSYSTEMS:
            failures.append(CheckFailure("dependency-ecosystem", f"unknown dependency kind {ecosystem!r}", "SKILL.md", "Use python and npm."))
            continue
        for spec in specs:
            if pinned_name(ecosystem, spec) is None:
                example = "requests==2.32.3" if ecosystem == "python" else "left-pad@1.3.0"
                failures.append(CheckFailure(
                    "maturity-unpinned-dependency", f"{ecosystem} dependency {spec!r} is not pinned to one version", "SKILL.md",
                    f"Pin it exactly, e.g. {example}.",
                ))
    return failures


def pinned_name(ecosystem: str, spec: str) -> str | None:
    """The package name if ``spec`` pins one exact version from the registry, else None.

    >>> pinned_name("python", "requests==2.32.3"), pinned_name("python", "requests>=2"), pinned_name("npm", "@types/node@20.1.0")
    ('requests', None, '@types/node')
    """
    if ecosystem == "npm":
        match = _NPM_PINNED.match(spec.strip())
        return match.group("name") if match else None
    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return None
    specifiers = list(requirement.specifier)
    if requirement.url or len(specifiers) != 1 or specifiers[0].operator not in ("==", "===") or "*" in specifiers[0].version:
        return None
    return requirement.name


def dependency_name(ecosystem: str, spec: str) -> str:
    """The package name of a spec, pinned or not (for the dependency scan)."""
    spec = spec.strip()
    if ecosystem == "npm":
        at = spec.find("@", 1)
        return spec[:at] if at > 0 else spec
    try:
        return Requirement(spec).name
    except InvalidRequirement:
        return re.split(r"[\s<>=!~;\[@]", spec, maxsplit=1)[0]
