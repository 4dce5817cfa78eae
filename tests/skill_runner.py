"""Run a skill's steps in plain Python, without a server, through the product's own step loop.

``dry_run`` is the planner's preview; ``execute_steps`` runs every active step for real in a
journaled workspace with ``skills.runner`` (the loop the Prefect flow runs, minus its tasks,
pauses and events). Skill tests compare the two and inspect what the execution left behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skills.catalog import step_functions
from skills.context import StepContext
from skills.definition import SkillDefinition
from skills.journal import ExecutionJournal
from skills.planning import ExecutionPlan, plan_skill, preflight
from skills.runner import run_steps_blocking
from skills.workspace import Workspace


@dataclass
class Execution:
    context: StepContext
    journal: ExecutionJournal

    @property
    def files(self) -> set[str]:
        return {c.path for c in self.context.workspace.changes if not c.is_dir}

    @property
    def directories(self) -> set[str]:
        return {c.path for c in self.context.workspace.changes if c.is_dir}

    @property
    def commands(self) -> list[str]:
        return [" ".join(command.argv) for command in self.context.commands]

    @property
    def persona_changes(self) -> list[str]:
        return [change.change for change in self.context.persona_changes]


def execute_steps(
    skill: SkillDefinition,
    parameters: dict[str, Any],
    persona: str,
    workspace_root: Path,
    execution_id: str = "exec-test",
    logs: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    network_allowed: bool = False,
) -> Execution:
    """Run every active step for real, in order, journaled; any failure propagates.

    Log lines the steps write go to ``logs`` when given; ``settings`` is what flows/ passes
    from the machine's settings (``{"advisory_db": ...}``); ``network_allowed`` is the
    execution's ``allowNetwork``.
    """
    checked = preflight(skill, parameters, "expert", persona, workspace_root)
    assert checked.ok, checked.errors
    journal = ExecutionJournal(workspace_root, execution_id)
    context = StepContext(
        skill=skill,
        params=checked.values,
        level="expert",
        persona=persona,  # type: ignore[arg-type]
        workspace=Workspace(workspace_root, journal),
        environment=checked.environment,
        settings=settings or {},
        network_allowed=network_allowed,
    )
    if logs is not None:
        context.on_log = lambda step_id, level, message: logs.append(message)
    run_steps_blocking(context, step_functions(skill))
    return Execution(context, journal)


def dry_run(skill: SkillDefinition, parameters: dict[str, Any], persona: str, workspace_root: Path) -> ExecutionPlan:
    checked, plan = plan_skill(skill, parameters, "expert", persona, workspace_root)
    assert plan is not None, checked.errors
    return plan


def files_on_disk(folder: Path) -> set[str]:
    """Files under ``folder``, relative to its parent, leaving out what git and npm keep."""
    found = set()
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = [d for d in subdirectories if d not in (".git", "node_modules")]
        found.update(str(Path(directory, name).relative_to(folder.parent)) for name in names)
    return found
