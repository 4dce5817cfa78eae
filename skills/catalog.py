"""Finding skills: the built-in ones under ``skills/builtin/`` and their step functions."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from skills.definition import SkillDefinition, load_skill_definition
from skills.errors import SkillDefinitionError, UnknownSkillError

BUILTIN_SKILLS_DIR = Path(__file__).parent / "builtin"

StepFunction = Callable[[Any], Any]


class SkillCatalog:
    """The skills one process knows, by id."""

    def __init__(self, skills: Iterable[SkillDefinition]) -> None:
        self._skills = {skill.id: skill for skill in skills}

    @classmethod
    def from_folders(cls, folders: Iterable[Path]) -> SkillCatalog:
        return cls(load_skill_definition(folder) for folder in sorted(folders))

    def get(self, skill_id: str) -> SkillDefinition:
        try:
            return self._skills[skill_id]
        except KeyError:
            raise UnknownSkillError(skill_id, list(self._skills)) from None

    def all(self) -> list[SkillDefinition]:
        return list(self._skills.values())

    def ids(self) -> list[str]:
        return list(self._skills)


@lru_cache(maxsize=1)
def load_builtin_catalog() -> SkillCatalog:
    return SkillCatalog.from_folders(p for p in BUILTIN_SKILLS_DIR.iterdir() if (p / "SKILL.md").is_file())


def step_functions(skill: SkillDefinition) -> dict[str, StepFunction]:
    """The step functions a skill's ``steps.py`` defines, by step id (missing ones left out)."""
    module = _steps_module(str(skill.folder)) if skill.folder else None
    if module is None:
        return {}
    found = {step.id: getattr(module, step.function_name, None) for step in skill.steps}
    return {step_id: function for step_id, function in found.items() if callable(function)}


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
