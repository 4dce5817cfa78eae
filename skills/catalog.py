"""The catalog: every skill this process knows, from each of its sources, and their step functions.

Sources, in the order a clash is decided (an earlier one keeps the id):

- ``builtin``: the folders under ``skills/builtin/``;
- ``local``: folders the operator names (``SKILLWORKS_SKILL_FOLDERS``), trusted like built-ins;
- ``installed``: marketplace skills in the installed-skills folder (``skills.installed``);
- ``dev``: folders a skill author works on (``skillworks dev FOLDER``).

A folder that fails to load is reported in ``problems`` and never stops the others; when a
``previous`` catalog is given (a reload), the skill it held from that folder keeps serving.
Installed and dev skills are third-party code: ``step_functions`` hands out sandboxed
stand-ins for their steps, and this process never imports their ``steps.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict

from skills.definition import SkillDefinition, load_skill_definition
from skills.errors import SkillDefinitionError, SkillworksError, UnknownSkillError
from skills.installed import InstalledSkillFolder, installed_skill_ids
from skills.origin import SkillOrigin, SkillSource, folder_digest

BUILTIN_SKILLS_DIR = Path(__file__).parent / "builtin"

StepFunction = Callable[[Any], Any]


@dataclass(frozen=True)
class LoadProblem:
    """A skill folder that could not be loaded, and why (shown by the API, the CLI and the page)."""

    folder: str
    source: SkillSource
    error: str
    skill_id: str | None = None
    serving_previous: bool = False  # the last good version of this skill is still served


class CatalogSources(BaseModel):
    """Where this process finds skills besides the built-in ones."""

    model_config = ConfigDict(frozen=True)

    local_folders: tuple[Path, ...] = ()
    installed_root: Path | None = None
    dev_folders: tuple[Path, ...] = ()


class SkillCatalog:
    """The skills one process knows, by id, and the folders that failed to load."""

    def __init__(self, skills: Iterable[SkillDefinition], problems: Iterable[LoadProblem] = ()) -> None:
        self._skills = {skill.id: skill for skill in skills}
        self.problems = list(problems)

    @classmethod
    def from_folders(cls, folders: Iterable[Path]) -> SkillCatalog:
        return cls(load_skill_definition(folder) for folder in sorted(folders))

    def get(self, skill_id: str) -> SkillDefinition:
        try:
            return self._skills[skill_id]
        except KeyError:
            raise UnknownSkillError(skill_id, list(self._skills)) from None

    def find(self, skill_id: str) -> SkillDefinition | None:
        return self._skills.get(skill_id)

    def all(self) -> list[SkillDefinition]:
        return list(self._skills.values())

    def ids(self) -> list[str]:
        return list(self._skills)


@lru_cache(maxsize=1)
def load_builtin_catalog() -> SkillCatalog:
    origin = SkillOrigin(source="builtin", version="", trust="built-in", digest="")
    return SkillCatalog(
        _with_origin(load_skill_definition(folder), "builtin", origin) for folder in skill_folders_in(BUILTIN_SKILLS_DIR)
    )


def load_catalog(sources: CatalogSources = CatalogSources(), previous: SkillCatalog | None = None) -> SkillCatalog:
    """The built-in skills plus every source's; see the module's docstring for clashes and failures."""
    builtin = load_builtin_catalog()
    skills: dict[str, SkillDefinition] = {skill.id: skill for skill in builtin.all()}
    problems: list[LoadProblem] = []
    candidates = [(folder, "local", None) for root in sources.local_folders for folder in skill_folders_in(root)]
    if sources.installed_root is not None:
        candidates += [
            (InstalledSkillFolder(sources.installed_root, skill_id).skill, "installed", skill_id)
            for skill_id in installed_skill_ids(sources.installed_root)
        ]
    candidates += [(folder, "dev", None) for root in sources.dev_folders for folder in skill_folders_in(root)]
    for folder, source, installed_id in candidates:
        try:
            skill = _load_from(folder, source, sources.installed_root, installed_id)  # type: ignore[arg-type]
            if skill.id in skills:
                raise SkillDefinitionError(
                    f"the id {skill.id!r} is already taken by the {skills[skill.id].origin.source} skill "  # type: ignore[union-attr]
                    f"in {skills[skill.id].folder}; give this one another id"
                )
        except (SkillworksError, OSError, ValueError) as failure:
            problems.append(_keep_previous(folder, source, str(failure), previous, skills))  # type: ignore[arg-type]
            continue
        skills[skill.id] = skill
    return SkillCatalog(skills.values(), problems)


def _load_from(folder: Path, source: SkillSource, installed_root: Path | None, installed_id: str | None) -> SkillDefinition:
    folder = folder.resolve()
    definition = load_skill_definition(folder)
    if source == "installed":
        assert installed_root is not None and installed_id is not None
        installed = InstalledSkillFolder(installed_root, installed_id)
        record = installed.record()
        if record is None or record.skill_id != definition.id:
            raise SkillDefinitionError(f"{installed.path}: its install record does not name the skill {definition.id!r}")
        venv = record.environment / "venv" if record.environment else None
        node_modules = record.environment / "node" / "node_modules" if record.environment else None
        origin = SkillOrigin(
            source="installed", version=record.version, trust="signed", digest=record.sha256, publisher=record.publisher,
            key_fingerprint=record.key_fingerprint,
            python_environment=venv if venv and venv.is_dir() else None,
            node_modules=node_modules if node_modules and node_modules.is_dir() else None,
        )
    else:
        trust = "operator" if source == "local" else "unsigned"
        origin = SkillOrigin(source=source, version=definition.version, trust=trust, digest=folder_digest(folder))
    return _with_origin(definition, source, origin)


def _with_origin(definition: SkillDefinition, source: SkillSource, origin: SkillOrigin) -> SkillDefinition:
    if source == "builtin":
        origin = origin.model_copy(update={"version": definition.version, "digest": folder_digest(definition.folder)})  # type: ignore[arg-type]
    return definition.model_copy(update={"origin": origin})


def _keep_previous(
    folder: Path, source: SkillSource, error: str, previous: SkillCatalog | None, skills: dict[str, SkillDefinition]
) -> LoadProblem:
    """Report a folder that failed to load; keep serving what ``previous`` loaded from it, if anything."""
    last_good = next((s for s in previous.all() if s.folder == folder), None) if previous else None
    if last_good is not None and last_good.id not in skills:
        skills[last_good.id] = last_good
        return LoadProblem(str(folder), source, error, last_good.id, serving_previous=True)
    return LoadProblem(str(folder), source, error)


def skill_folders_in(root: Path) -> list[Path]:
    """``root`` if it is a skill folder, else its subfolders that are."""
    if (root / "SKILL.md").is_file():
        return [root]
    return sorted(p for p in root.iterdir() if (p / "SKILL.md").is_file()) if root.is_dir() else []


def step_functions(skill: SkillDefinition) -> dict[str, StepFunction]:
    """The step functions of a skill, by step id (missing ones left out).

    This is the one place where a skill's code is reached: a trusted skill's ``steps.py`` is
    imported; a third-party skill's steps are stand-ins that run each step in the sandbox.
    """
    if skill.sandboxed:
        from skills.sandbox.steps import sandboxed_step_functions

        return sandboxed_step_functions(skill, defined_step_functions(skill))
    return imported_step_functions(skill)


def imported_step_functions(skill: SkillDefinition) -> dict[str, StepFunction]:
    """Import ``steps.py`` (trusted skills here; third-party ones only inside the sandbox)."""
    module = _steps_module(str(skill.folder)) if skill.folder else None
    if module is None:
        return {}
    found = {step.id: getattr(module, step.function_name, None) for step in skill.steps}
    return {step_id: function for step_id, function in found.items() if callable(function)}


def defined_step_functions(skill: SkillDefinition) -> set[str]:
    """Ids of the steps whose function ``steps.py`` defines, read with ``ast`` (never executed)."""
    path = skill.folder / "steps.py" if skill.folder else None
    if path is None or not path.is_file():
        return set()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise SkillDefinitionError(f"{path}: cannot be read as Python: {exc}") from exc
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return {step.id for step in skill.steps if step.function_name in defined}


@lru_cache(maxsize=None)
def _steps_module(folder: str) -> ModuleType | None:
    """Import ``steps.py`` as ``skillworks_skill_<id>.steps``.

    The skill folder becomes a package (its name need not be a Python identifier), so
    ``steps.py`` can split its work into sibling modules: ``from .stack import detect_stack``.
    """
    path = Path(folder) / "steps.py"
    if not path.is_file():
        return None
    package_name = f"skillworks_skill_{Path(folder).name.replace('-', '_')}"
    package = ModuleType(package_name)
    package.__path__ = [folder]
    sys.modules[package_name] = package
    module_name = f"{package_name}.steps"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SkillDefinitionError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    spec.loader.exec_module(module)
    return module
