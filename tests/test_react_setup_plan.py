"""React Project Setup: the dry run lists exactly what the real run creates.

Each test dry-runs the skill (``plan_skill``), then executes the same step functions for real
in a journaled workspace with ``skill_runner.execute_steps`` — a plain-Python stand-in for
the Prefect flow in ``flows/``, so these tests need no server. ``installDependencies`` is off
here (no network); ``test_react_setup_npm.py`` installs, builds, lints and tests for real.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from skills.catalog import load_builtin_catalog, step_functions
from skills.context import StepContext
from skills.definition import SkillDefinition
from skills.errors import StepError
from skills.git import has_git_identity
from skills.journal import JOURNAL_DIRNAME
from skills.planning import plan_skill, preflight
from skills.workspace import Workspace
from tests.skill_runner import dry_run, execute_steps, files_on_disk

STYLINGS = ("Tailwind CSS", "Styled Components", "CSS Modules")


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (but the journal) with its bytes, None for folders."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.relative_to(root).parts[0] != JOURNAL_DIRNAME
    }


def git(project: Path, *argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=project, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def skill() -> SkillDefinition:
    return load_builtin_catalog().get("react-setup")


def parameters(**overrides: Any) -> dict[str, Any]:
    return {"projectName": "my-app", "installDependencies": False, **overrides}


@pytest.mark.parametrize(
    ("use_typescript", "styling", "testing", "persona"),
    list(itertools.product((True, False), STYLINGS, (True, False), ("full-stack", "architect"))),
)
def test_dry_run_lists_exactly_what_execution_creates(
    skill: SkillDefinition, tmp_path: Path, use_typescript: bool, styling: str, testing: bool, persona: str
) -> None:
    values = parameters(useTypescript=use_typescript, styling=styling, testing=testing)
    plan = dry_run(skill, values, persona, tmp_path)
    assert list(tmp_path.iterdir()) == [], "the dry run changed the workspace"

    execution = execute_steps(skill, values, persona, tmp_path)

    assert set(plan.files) == execution.files == files_on_disk(tmp_path / "my-app")
    assert set(plan.directories) == execution.directories
    assert plan.commands == execution.commands
    assert plan.persona_changes == execution.persona_changes
    project = tmp_path / "my-app"
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(project, "status", "--porcelain") == "", "the first commit left files out"


def test_plan_names_the_chosen_styling_and_skips_disabled_steps(skill: SkillDefinition, tmp_path: Path) -> None:
    plan = dry_run(skill, parameters(useTypescript=False, styling="CSS Modules", testing=False), "full-stack", tmp_path)

    steps = {step.id: step for step in plan.steps}
    assert steps["setup-styling"].name == "Setup CSS Modules"
    assert steps["configure-typescript"].status == "skip"
    assert steps["setup-testing"].status == "skip"
    assert "my-app/src/App.module.css" in steps["setup-styling"].files
    assert not any(path.endswith((".ts", ".tsx")) for path in plan.files)


def test_package_json_declares_every_tool_the_configs_use(skill: SkillDefinition, tmp_path: Path) -> None:
    execute_steps(skill, parameters(useTypescript=True, styling="Tailwind CSS", testing=True), "full-stack", tmp_path)

    manifest = json.loads((tmp_path / "my-app" / "package.json").read_text())
    tools = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert {"typescript", "typescript-eslint", "tailwindcss", "@tailwindcss/vite", "jest", "identity-obj-proxy"} <= set(tools)
    assert all(version[0] in "^~" for version in tools.values())
    assert set(manifest["scripts"]) == {"dev", "build", "lint", "format", "preview", "test"}


@pytest.mark.parametrize(
    ("persona", "use_typescript", "expected_changes", "evidence"),
    [
        ("ai-engineer", True, ["TypeScript strict mode"], ("tsconfig.app.json", '"noUncheckedIndexedAccess": true')),
        ("security", True, ["Content-Security-Policy", "npm run audit"], ("index.html", "Content-Security-Policy")),
        ("devops", False, ["public/health.json", "npm run build:docker"], ("package.json", '"build:docker"')),
        ("architect", False, ["feature-folder layout"], ("src/App.jsx", "./features/welcome/Welcome")),
        ("full-stack", True, [], ("package.json", '"name": "my-app"')),
    ],
)
def test_persona_changes_are_listed_and_made(
    skill: SkillDefinition,
    tmp_path: Path,
    persona: str,
    use_typescript: bool,
    expected_changes: list[str],
    evidence: tuple[str, str],
) -> None:
    values = parameters(useTypescript=use_typescript)
    plan = dry_run(skill, values, persona, tmp_path)

    assert len(plan.persona_changes) == len(expected_changes)
    for expected, listed in zip(expected_changes, plan.persona_changes):
        assert expected in listed
    execute_steps(skill, values, persona, tmp_path)
    path, text = evidence
    assert text in (tmp_path / "my-app" / path).read_text()


def test_existing_non_empty_folder_fails_preflight_on_project_name(skill: SkillDefinition, tmp_path: Path) -> None:
    (tmp_path / "my-app").mkdir()
    (tmp_path / "my-app" / "notes.txt").write_text("mine")

    checked, plan = plan_skill(skill, parameters(), "expert", "full-stack", tmp_path)

    assert plan is None
    assert [issue.field for issue in checked.errors] == ["projectName"]


def test_validate_parameters_rechecks_the_folder_at_execution_time(skill: SkillDefinition, tmp_path: Path) -> None:
    checked = preflight(skill, parameters(), "expert", "full-stack", tmp_path)
    context = StepContext(skill, checked.values, "expert", "full-stack", Workspace(tmp_path))
    (tmp_path / "my-app").mkdir()
    (tmp_path / "my-app" / "late.txt").write_text("created after the pre-flight")

    with pytest.raises(StepError, match="already exists and is not empty") as raised:
        step_functions(skill)["validate-parameters"](context)
    assert raised.value.suggestions


def test_undo_leaves_the_workspace_as_before(skill: SkillDefinition, tmp_path: Path) -> None:
    (tmp_path / "other-project").mkdir()
    (tmp_path / "other-project" / "keep.txt").write_text("untouched")
    before = snapshot(tmp_path)
    execution = execute_steps(skill, parameters(styling="Styled Components"), "devops", tmp_path)

    report = execution.journal.undo()

    assert report.conflicts == []
    assert snapshot(tmp_path) == before


def test_commit_uses_a_fallback_identity_only_when_git_has_none(
    skill: SkillDefinition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_config = tmp_path / "empty.gitconfig"
    empty_config.write_text("")
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty_config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    has_git_identity.cache_clear()  # git's answer is remembered for a few seconds

    plan = dry_run(skill, parameters(), "full-stack", workspace)
    execute_steps(skill, parameters(), "full-stack", workspace)

    assert "git -c user.name=skillworks -c user.email=skillworks@localhost commit" in " ".join(plan.commands)
    assert git(workspace / "my-app", "log", "--format=%an <%ae>").strip() == "skillworks <skillworks@localhost>"

    empty_config.write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    has_git_identity.cache_clear()
    other = dry_run(skill, parameters(projectName="other-app"), "full-stack", workspace)
    assert "git commit --quiet -m Initial commit: other-app from skillworks react-setup" in other.commands


@pytest.mark.parametrize(("config", "has_identity"), [
    ("[user]\n\tname = Ada\n\temail = ada@example.com\n", True),
    ("[User]\n\tName = Ada\n\tEMail = ada@example.com\n", True),  # git's keys ignore case
    ("[user]\n\tname = Ada\n", False),
    ("[user]\n\tname =\n\temail = ada@example.com\n", False),  # git refuses to commit with an empty name
    ("", False),
])
def test_git_has_an_identity_only_with_both_a_name_and_an_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, has_identity: bool
) -> None:
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text(config)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    has_git_identity.cache_clear()

    assert has_git_identity(tmp_path) is has_identity
