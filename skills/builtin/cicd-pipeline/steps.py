"""Steps of the CI/CD Pipeline skill: a pipeline for GitHub Actions, GitLab CI or Jenkins that
runs the project's own install, lint, test and build commands, a manifest of the secrets it
needs, offline validation with each platform's validator, and a commit that triggers it.

The files written follow from the parameters, the persona and the project's files alone
(never from a command's output), so the dry run lists exactly what the real run creates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from skills.commands import run_command
from skills.context import StepContext
from skills.errors import StepError
from skills.git import git_output, identity_arguments

from .pipeline import (
    DEPLOY_HOOK,
    GITHUB_ACTIONS,
    GITLAB_CI,
    SECRETS_MANIFEST,
    TEMPLATES,
    Pipeline,
    persona_changes,
    plan_pipeline,
)
from .stack import detect_stack
from .validation import validate_pipeline, validators_for

# Secrets the platform hands every pipeline run: listed in the manifest so nobody creates them.
PROVIDED_SECRETS = {
    GITHUB_ACTIONS: [("GITHUB_TOKEN", "pushes the image to GitHub Container Registry (`packages: write`)")],
    GITLAB_CI: [("CI_REGISTRY_USER / CI_REGISTRY_PASSWORD", "push the image to the project's container registry")],
}
# The CLI that can set secrets on each platform (Jenkins has none that skillworks can use).
SECRET_CLIS = {GITHUB_ACTIONS: "gh", GITLAB_CI: "glab"}


def validate_configuration(ctx: StepContext) -> dict[str, Any]:
    """Find the project's stack and make sure the pipeline would have something to run."""
    stack = detect_stack(ctx)
    folder = ctx.workspace.path(ctx.target)
    if stack.toolchain is None and not stack.dockerfile:
        raise StepError(
            f"No package.json, pyproject.toml, requirements.txt or Dockerfile in {folder}: nothing to build or test.",
            ["Point projectPath at the project's root folder.", "Add the project's manifest (package.json or pyproject.toml) first."],
        )
    toolchain = stack.toolchain
    for wanted, commands, what in (("runLint", toolchain and toolchain.lint, "lint"), ("runTests", toolchain and toolchain.test, "test")):
        if ctx.params[wanted] and not commands:
            ctx.log(f"{wanted} is on, but the project has no {what} command (a `{what}` script or tool); no {what} job", "warning")
    pipeline = _pipeline(ctx)
    if not pipeline.jobs:
        raise StepError(
            f"The project in {folder} has no lint, test or build command to run.",
            ["Add `lint`, `test` or `build` scripts to package.json, or pytest/ruff to pyproject.toml.", "Turn runTests or runLint on."],
        )
    ctx.log(f"Detected {stack.describe()}; jobs: {', '.join(job.id for job in pipeline.all_jobs)}")
    return {"stack": stack.describe(), "jobs": [job.id for job in pipeline.all_jobs]}


def check_git_repository(ctx: StepContext) -> dict[str, Any]:
    """The project must be the top folder of a git repository: pipelines live at its root."""
    folder = ctx.workspace.path(ctx.target)
    if ctx.pretend and not folder.is_dir() and ctx.workspace.is_dir(ctx.file(".git")):
        # A workflow's dry run: an earlier node (react-setup, say) creates this repository.
        return {"branch": "main", "defaultBranch": "main"}
    top = git_output(folder, "rev-parse", "--show-toplevel") if folder.is_dir() else None
    if top is None:
        raise StepError(
            f"{folder} is not a git repository.",
            [f"Run `git init` in {folder} (and commit your work), then run the skill again."],
        )
    if top != str(folder.resolve()):
        raise StepError(
            f"{folder} is inside the git repository {top}, not at its root; {ctx.params['platform']} reads pipelines from the root.",
            [f"Set projectPath to the repository's root folder ({top})."],
        )
    branch = git_output(folder, "symbolic-ref", "--short", "HEAD") or "(detached HEAD)"
    ctx.log(f"Git repository on branch {branch}; default branch {default_branch(ctx)}")
    return {"branch": branch, "defaultBranch": default_branch(ctx)}


def create_workflow_file(ctx: StepContext) -> dict[str, Any]:
    pipeline = _pipeline(ctx)
    for change in persona_changes(pipeline):
        ctx.persona_change(change)
    text = ctx.render(TEMPLATES[pipeline.platform], pipeline=pipeline, deploy_hook=DEPLOY_HOOK, scalar=yaml_scalar, groovy=groovy_string)
    ctx.workspace.write_text(ctx.file(pipeline.file), text)
    return {"file": pipeline.file, "path": ctx.file(pipeline.file), "jobs": [job.id for job in pipeline.all_jobs]}


def configure_secrets(ctx: StepContext) -> dict[str, Any]:
    """Write the manifest of secret *names*; say how to set their values, and with which CLI."""
    pipeline = _pipeline(ctx)
    provided = PROVIDED_SECRETS.get(pipeline.platform, []) if pipeline.deploy and pipeline.stack.dockerfile else []
    ctx.workspace.write_text(ctx.file(SECRETS_MANIFEST), ctx.render("CI_SECRETS.md.j2", pipeline=pipeline, provided=provided))
    names = [secret.name for secret in pipeline.secrets]
    ctx.log(f"The pipeline needs {len(names)} secret(s){': ' + ', '.join(names) if names else ''}; see {SECRETS_MANIFEST}")
    cli = SECRET_CLIS.get(pipeline.platform)
    if names and cli:
        _offer_secret_cli(ctx, cli, names)
    elif names:
        ctx.log(f"Add them as Jenkins credentials (Manage Jenkins → Credentials); {SECRETS_MANIFEST} lists the ids")
    return {"manifest": SECRETS_MANIFEST, "secrets": names}


def _offer_secret_cli(ctx: StepContext, cli: str, names: list[str]) -> None:
    """Offer the platform CLI's commands when it is installed and logged in (never the values)."""
    if shutil.which(cli) is None:
        ctx.log(f"{cli} is not installed, so the secrets cannot be set from here; {SECRETS_MANIFEST} explains how to set them")
        return
    status = run_command([cli, "auth", "status"], cwd=ctx.workspace.path(ctx.target), timeout=30, check=False)
    if status.returncode != 0:
        ctx.log(f"{cli} is installed but not logged in (`{cli} auth login`); {SECRETS_MANIFEST} explains how to set the secrets")
        return
    command = "gh secret set" if cli == "gh" else "glab variable set"
    for name in names:
        ctx.log(f"{cli} is logged in: set {name} with `{command} {name}` (it asks for the value; nothing is stored here)")


def test_workflow_trigger(ctx: StepContext) -> dict[str, Any]:
    """Validate the pipeline offline, then commit it (and the manifest) so a push triggers it."""
    pipeline = _pipeline(ctx)
    checks = validators_for(pipeline.platform)
    folder = ctx.workspace.path(ctx.target)
    if ctx.pretend:
        ctx.log(f"Would validate {pipeline.file} with {', '.join(checks)}")
    else:
        findings = validate_pipeline(pipeline.platform, folder, pipeline.file)
        if findings:
            raise StepError(
                f"{pipeline.file} does not pass {pipeline.platform}'s validation:\n" + "\n".join(f"- {f}" for f in findings),
                ["This is a defect in the generated pipeline: please report it with the file attached."],
            )
        ctx.log(f"{pipeline.file} passes {', '.join(checks)}")
    files = [pipeline.file, SECRETS_MANIFEST]
    message = f"ci: add {pipeline.platform} pipeline (skillworks cicd-pipeline)"
    ctx.run(["git", "add", "--", *files])
    # Asked in / when the folder is only planned (a workflow's dry run): git's global settings.
    identity = identity_arguments(folder if folder.is_dir() else Path("/"), lambda text: ctx.log(text, "warning"))
    # Only the skill's own files go into the commit; whatever else the user staged stays staged.
    ctx.run(["git", *identity, "commit", "--quiet", "--only", "-m", message, "--", *files])
    commit = None if ctx.pretend else git_output(folder, "rev-parse", "HEAD")
    if commit is not None:
        ctx.journal_git_commit(commit)
        ctx.log(f"Committed {commit[:12]}: push it (`git push`) and {pipeline.platform} runs the pipeline")
    return {"commit": commit, "validatedWith": checks}


def default_branch(ctx: StepContext) -> str:
    """The branch that deploys: origin's default, else a local main or master, else the current one."""
    folder = ctx.workspace.path(ctx.target)
    remote_head = git_output(folder, "symbolic-ref", "--short", "refs/remotes/origin/HEAD")
    if remote_head:
        return remote_head.removeprefix("origin/")
    for name in ("main", "master"):
        if git_output(folder, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}") is not None:
            return name
    return git_output(folder, "symbolic-ref", "--short", "HEAD") or "main"


def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else double-quoted."""
    plain_ok = ": " not in text and " #" not in text and yaml.safe_load(text) == text
    return text if plain_ok else json.dumps(text)


def groovy_string(text: str) -> str:
    """``text`` as a single-quoted Groovy string (no interpolation: ``$VAR`` reaches the shell)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pipeline(ctx: StepContext) -> Pipeline:
    branch = default_branch(ctx) if ctx.workspace.path(ctx.target).is_dir() else "main"
    return plan_pipeline(ctx.params["platform"], detect_stack(ctx), ctx.params, ctx.persona, branch)
