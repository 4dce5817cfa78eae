"""Conflicts found before anything is installed, each naming both sides.

- With skillworks: a skill's Python pins on a package the step API shares with it (the
  sandbox puts skillworks' copy of pydantic, Jinja2, PyYAML... beside the skill's own
  environment, so the skill must accept skillworks' version).
- With another installed skill: the versions two skills require of a tool they share on this
  machine (``requires: {node: ">=20"}`` against another's ``{node: "<18"}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from itertools import product

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from skills.definition import SkillDefinition
from skills.errors import UserMessageError

# The distributions skillworks' step API (skills.context and what it imports) loads in the sandbox.
STEP_API_DISTRIBUTIONS = (
    "pydantic", "pydantic-core", "annotated-types", "typing-extensions", "typing-inspection", "jinja2", "markupsafe",
    "pyyaml", "packaging",
)


@dataclass(frozen=True)
class DependencyConflict:
    """``skill`` needs ``wanted``; ``other`` (skillworks, or another installed skill) needs ``held``."""

    skill: str
    wanted: str
    other: str
    held: str

    def __str__(self) -> str:
        return f"{self.skill} requires {self.wanted}, but {self.other} {self.held}"


class ConflictsFound(UserMessageError):
    """The skill cannot be installed beside what is here; nothing was installed."""

    def __init__(self, skill_id: str, conflicts: list[DependencyConflict]) -> None:
        super().__init__(
            f"{skill_id} was not installed: " + "; ".join(str(conflict) for conflict in conflicts) + ".",
            ["Ask the skill's publisher to widen its pins, or uninstall the skill it conflicts with."],
        )
        self.conflicts = conflicts


class InvalidDependency(UserMessageError):
    """A dependency the skill declares cannot be read."""


def step_api_pins() -> dict[str, str]:
    """The installed version of every distribution the step API shares with a sandboxed skill."""
    pins = {}
    for name in STEP_API_DISTRIBUTIONS:
        try:
            pins[canonicalize_name(name)] = version(name)
        except PackageNotFoundError:
            continue
    return pins


def python_requirements(skill: SkillDefinition) -> list[Requirement]:
    requirements = []
    for text in skill.dependencies.get("python", []):
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as exc:
            raise InvalidDependency(f"{skill.id}: the Python dependency {text!r} cannot be read: {exc}",
                                    ["Write it as pip does: `name==1.2.3` or `name>=1,<2`."]) from exc
    return requirements


def step_api_conflicts(skill: SkillDefinition, pins: dict[str, str]) -> list[DependencyConflict]:
    found = []
    for requirement in python_requirements(skill):
        held = pins.get(canonicalize_name(requirement.name))
        if held is not None and not requirement.specifier.contains(held, prereleases=True):
            found.append(DependencyConflict(
                f"{skill.id} {skill.version}", str(requirement), "skillworks' step API",
                f"uses {requirement.name} {held} (shared with every sandboxed skill)",
            ))
    return found


def shared_tool_conflicts(skill: SkillDefinition, installed: list[SkillDefinition]) -> list[DependencyConflict]:
    """Tools two skills require in ranges no version satisfies at once."""
    found = []
    for other in installed:
        if other.id == skill.id:
            continue
        for tool in sorted(set(skill.requires) & set(other.requires)):
            ours, theirs = _specifier(skill.requires[tool]), _specifier(other.requires[tool])
            if ours is not None and theirs is not None and not _overlap(ours, theirs):
                found.append(DependencyConflict(
                    f"{skill.id} {skill.version}", f"{tool} {ours}", f"the installed skill {other.id} {other.version}",
                    f"requires {tool} {theirs}",
                ))
    return found


def _specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text) if text.strip() not in ("", "*") else None
    except InvalidSpecifier:
        return None


def _overlap(first: SpecifierSet, second: SpecifierSet) -> bool:
    """Whether some version satisfies both: tried on every bound either names and its neighbours."""
    candidates: set[Version] = set()
    for specifier in [*first, *second]:
        try:
            bound = Version(specifier.version.replace(".*", ""))
        except InvalidVersion:
            return True  # cannot tell: not a conflict we can name
        major, minor, micro = (list(bound.release) + [0, 0])[:3]
        candidates |= {bound, Version(f"{major}.{minor}.{micro + 1}"), Version(f"{major + 1}"), Version(f"{max(major - 1, 0)}.999")}
    return any(first.contains(v, prereleases=True) and second.contains(v, prereleases=True) for v, in product(candidates))
