"""What a step function receives: the ``StepContext``.

A step is a plain function ``def create_project_directory(ctx: StepContext) -> Any``.
Everything it may touch comes through the context — validated parameters, level and
persona, the workspace (all writes), ``run`` (all commands), the log, and the outputs of
earlier steps — so the same function serves the dry run (``ctx.pretend``) and the real run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

import jinja2
import jinja2.sandbox

from skills.commands import CommandResult, RunningCommands, run_command
from skills.definition import DEFAULT_STEP_TIMEOUT_SECONDS, Level, Persona, SkillDefinition, StepSpec
from skills.environment import EnvironmentReport
from skills.journal import JournalEntry
from skills.workspace import FileChange, Workspace

LogSink = Callable[[str, str, str], None]  # (step_id, level, message)


@dataclass(frozen=True)
class PlannedCommand:
    step_id: str | None
    argv: list[str]
    cwd: str


@dataclass(frozen=True)
class PersonaChange:
    step_id: str | None
    persona: str
    change: str


def _ignore_log(step_id: str, level: str, message: str) -> None:
    return None


@dataclass
class StepContext:
    skill: SkillDefinition
    params: dict[str, Any]
    level: Level
    persona: Persona
    workspace: Workspace
    environment: EnvironmentReport = field(default_factory=EnvironmentReport)
    outputs: dict[str, Any] = field(default_factory=dict)
    default_step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS  # for steps that set none
    step_timeout: float = DEFAULT_STEP_TIMEOUT_SECONDS  # the current step's
    on_log: LogSink = _ignore_log
    commands: list[PlannedCommand] = field(default_factory=list)
    persona_changes: list[PersonaChange] = field(default_factory=list)
    step_id: str | None = None
    # Machine settings a step may need, by name, filled by flows/ from blocks.settings (skills
    # cannot import blocks, which imports Prefect): {"advisory_db": Path | None}. Only named
    # values are passed, never the whole Settings (it holds the API token). A sandboxed step reads
    # "sandbox_memory_mb" and "sandbox_processes" (its limits) from here.
    settings: dict[str, Any] = field(default_factory=dict)
    running: RunningCommands = field(default_factory=RunningCommands)
    # Whether the user allowed the network for this execution (a sandboxed skill that declares
    # it gets it only then; built-in skills are not sandboxed).
    network_allowed: bool = False
    # Where this run's changes start in ``workspace.changes``: a workflow's chained dry runs
    # share one pretending workspace, which also holds the upstream nodes' changes.
    first_change: int = 0

    @property
    def own_changes(self) -> list[FileChange]:
        return self.workspace.changes[self.first_change:]

    @property
    def pretend(self) -> bool:
        """True in a dry run: writes and commands are recorded, not performed."""
        return self.workspace.pretend

    @property
    def target(self) -> str:
        """The folder this skill works in, relative to the workspace (from SKILL.md's ``target``)."""
        if self.skill.target is None:
            return "."
        return self.workspace.relative(self.skill.target.resolve(self.params))

    def file(self, *parts: str) -> str:
        """A path inside the target folder: ``ctx.file("src", "App.tsx")``."""
        return str(PurePosixPath(self.target, *parts))

    def begin_step(self, step: StepSpec) -> None:
        """Make ``step`` the current one: its changes, commands and logs are attributed to it,
        and its commands get its timeout."""
        self.step_id = step.id
        self.workspace.current_step = step.id
        self.step_timeout = step.timeout or self.default_step_timeout

    def log(self, message: str, level: str = "info") -> None:
        self.on_log(self.step_id or "", level, message)

    def persona_change(self, change: str) -> None:
        """Declare something generated differently because of the persona (listed by the dry run)."""
        self.persona_changes.append(PersonaChange(self.step_id, self.persona, change))

    def journal_built_image(self, image_id: str) -> None:
        """Record an image this step built from the target folder, so rollback removes it.

        Recorded after the build (its id exists only then); a dry run builds nothing.
        """
        if self.workspace.journal is not None and not self.pretend:
            entry = JournalEntry(kind="docker_image", path=self.target, resource=image_id, step_id=self.step_id)
            self.workspace.journal.record(entry)

    def journal_git_commit(self, commit: str) -> None:
        """Record a commit this step made in the target folder's repository, so rollback takes it back.

        Recorded after the commit (its sha exists only then); a dry run commits nothing.
        """
        if self.workspace.journal is not None and not self.pretend:
            entry = JournalEntry(kind="git_commit", path=self.target, resource=commit, step_id=self.step_id)
            self.workspace.journal.record(entry)

    def run(
        self,
        argv: Sequence[str],
        cwd: str | None = None,
        timeout: float | None = None,
        creates: Sequence[str] = (),
        creates_dirs: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> CommandResult:
        """Run a command in ``cwd`` (default: the target folder).

        ``creates``/``creates_dirs`` name the files and folders the command makes, relative
        to ``cwd``: they are journaled first (so rollback removes them) and listed by the dry run.
        """
        folder = cwd if cwd is not None else self.target
        for path in creates:
            self.workspace.expect_created(str(PurePosixPath(folder, path)), is_dir=False)
        for path in creates_dirs:
            self.workspace.expect_created(str(PurePosixPath(folder, path)), is_dir=True)
        self.commands.append(PlannedCommand(self.step_id, [str(a) for a in argv], folder))
        if self.pretend:
            return CommandResult([str(a) for a in argv], 0, "")
        return run_command(
            argv,
            cwd=self.workspace.path(folder),
            timeout=timeout or self.step_timeout,
            on_output=lambda line: self.log(line, "info"),
            env=env,
            running=self.running,
        )

    def render(self, template: str, **extra: Any) -> str:
        """Render ``templates/<template>`` of this skill with the parameters, persona and ``extra``."""
        return self._templates().get_template(template).render(
            params=self.params, persona=self.persona, level=self.level, **self.params, **extra
        )

    def _templates(self) -> jinja2.Environment:
        folder = self.skill.folder / "templates" if self.skill.folder else None
        return _template_environment(str(folder), self.skill.sandboxed)


@lru_cache(maxsize=None)
def _template_environment(folder: str, sandboxed: bool) -> jinja2.Environment:
    """One Jinja environment per templates folder, so compiled templates are reused; a third-party
    skill's templates render in Jinja's sandbox (no attribute tricks reaching Python internals)."""
    environment_type = jinja2.sandbox.SandboxedEnvironment if sandboxed else jinja2.Environment
    return environment_type(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
