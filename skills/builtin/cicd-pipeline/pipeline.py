"""The pipeline, independent of the platform: which jobs run which commands, and which secrets
they need. The templates turn it into a GitHub Actions workflow, a ``.gitlab-ci.yml`` or a
``Jenkinsfile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .stack import ProjectStack

GITHUB_ACTIONS = "GitHub Actions"
GITLAB_CI = "GitLab CI"
JENKINS = "Jenkins"
PIPELINE_FILES = {GITHUB_ACTIONS: ".github/workflows/ci.yml", GITLAB_CI: ".gitlab-ci.yml", JENKINS: "Jenkinsfile"}
TEMPLATES = {GITHUB_ACTIONS: "github-actions.yml.j2", GITLAB_CI: "gitlab-ci.yml.j2", JENKINS: "Jenkinsfile.j2"}
SECRETS_MANIFEST = "CI_SECRETS.md"
DEPLOY_HOOK = "STAGING_DEPLOY_HOOK_URL"

# Actions pinned to the commit of a release tag (security persona): a tag can be moved, a SHA cannot.
PINNED_ACTIONS = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-node": ("49933ea5288caeca8642d1e84afbd3f7d6820020", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
}
ACTION_MAJOR_TAGS = {"actions/checkout": "v4", "actions/setup-node": "v4", "actions/setup-python": "v5"}


@dataclass(frozen=True)
class Job:
    id: str
    name: str
    commands: tuple[str, ...]
    needs: tuple[str, ...] = ()
    toolchain: bool = True  # False: the job needs Docker, not the language runtime
    docker_build: bool = False


@dataclass(frozen=True)
class Secret:
    """A value the pipeline reads that only the CI platform may hold (never written to disk)."""

    name: str  # the secret's name on GitHub and GitLab; Jenkins credential ids are kebab-case
    purpose: str

    @property
    def credential_id(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class Pipeline:
    platform: str
    stack: ProjectStack
    jobs: tuple[Job, ...]
    deploy: Job | None
    secrets: tuple[Secret, ...]
    default_branch: str
    security: bool  # pinned actions, least-privilege permissions, dependency audit
    devops: bool  # deploy environment, concurrency group, job timeouts

    @property
    def file(self) -> str:
        return PIPELINE_FILES[self.platform]

    @property
    def all_jobs(self) -> tuple[Job, ...]:
        return self.jobs + ((self.deploy,) if self.deploy else ())

    def action(self, name: str) -> str:
        """``uses:`` value of an action: pinned to a commit for the security persona."""
        if self.security:
            sha, tag = PINNED_ACTIONS[name]
            return f"{name}@{sha} # {tag}"
        return f"{name}@{ACTION_MAJOR_TAGS[name]}"


def plan_pipeline(
    platform: str, stack: ProjectStack, params: dict[str, Any], persona: str, default_branch: str
) -> Pipeline:
    """The jobs for this project and these options; empty ``jobs`` means nothing to run."""
    toolchain = stack.toolchain
    jobs: list[Job] = []
    if toolchain and params["runLint"] and toolchain.lint:
        jobs.append(Job("lint", "Lint", toolchain.lint))
    if toolchain and params["runTests"] and toolchain.test:
        jobs.append(Job("test", "Test", toolchain.test))
    if toolchain and toolchain.build:
        jobs.append(Job("build", "Build", toolchain.build))
    if stack.dockerfile:
        jobs.append(Job("docker-image", "Docker image", ("docker build --pull -t app:ci .",), toolchain=False, docker_build=True))
    security = persona == "security"
    if security and toolchain:
        jobs.append(Job("audit", "Dependency audit", toolchain.audit))
    deploy = None
    secrets: tuple[Secret, ...] = ()
    if params["autoDeployStaging"] and jobs:
        needs = tuple(job.id for job in jobs)
        deploy = Job("deploy-staging", "Deploy to staging", (), needs=needs, toolchain=False, docker_build=stack.dockerfile)
        secrets = (Secret(DEPLOY_HOOK, "the staging platform's deploy hook URL (it carries a token); a POST starts a deployment"),)
        if platform == JENKINS and stack.dockerfile:
            secrets += (
                Secret("STAGING_REGISTRY_IMAGE", "the image repository to push to, e.g. registry.example.com/team/app"),
                Secret("STAGING_REGISTRY_USER", "the user that may push to that registry"),
                Secret("STAGING_REGISTRY_PASSWORD", "that user's password or access token"),
            )
    return Pipeline(platform, stack, tuple(jobs), deploy, secrets, default_branch, security, persona == "devops")


def persona_changes(pipeline: Pipeline) -> list[str]:
    """What the persona changed in this pipeline, in words (for the dry run)."""
    changes = []
    if pipeline.security:
        changes.append("dependency audit job that fails on high or critical vulnerabilities")
        if pipeline.platform == GITHUB_ACTIONS:
            changes.append("actions pinned to commit SHAs, and least-privilege `permissions:` per job")
    if pipeline.devops:
        changes.append("superseded runs are cancelled (concurrency group) and every job has a timeout")
        if pipeline.deploy and pipeline.platform != JENKINS:  # Jenkins has no deployment environments
            changes.append("the staging deploy runs in a `staging` deployment environment, one at a time")
    return changes
