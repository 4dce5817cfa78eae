"""The validators cicd-pipeline relies on really reject broken pipelines (fast checks only:
the Groovy parse on Java is exercised by every Jenkins test in test_cicd_pipeline.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

from skills.catalog import load_builtin_catalog, step_functions

# The skill's own modules, importable once the catalog has loaded its steps.
step_functions(load_builtin_catalog().get("cicd-pipeline"))
jenkinsfile = importlib.import_module("skillworks_skill_cicd_pipeline.jenkinsfile")
validation = importlib.import_module("skillworks_skill_cicd_pipeline.validation")


def test_gitlab_schema_rejects_an_unknown_job_keyword(tmp_path: Path) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("test:\n  script: [make test]\n  scrpt: [oops]\n")

    findings = validation.validate_pipeline("GitLab CI", tmp_path, ".gitlab-ci.yml")

    assert [str(f) for f in findings] == [
        "$.test: Additional properties are not allowed ('scrpt' was unexpected) (vendor.gitlab-ci)"
    ]


def test_declarative_structure_names_each_problem_with_its_line() -> None:
    text = (
        "pipeline {\n"
        "    stages {\n"
        "        stage('Build') {\n"
        "            steps { }\n"
        "        }\n"
        "        stage {\n"
        "            steps { sh 'make' }\n"
        "            stages { }\n"
        "        }\n"
        "    }\n"
        "    post { sometimes { echo 'x' } }\n"
        "}\n"
    )

    assert jenkinsfile.check_declarative(text) == [
        (1, "`pipeline` needs an `agent` (use `agent none` to choose one per stage)"),
        (4, "`steps` of stage 'Build' is empty"),
        (6, "a `stage` needs a name: `stage('Build') { … }`"),
        (6, "stage needs exactly one of `steps`, `stages`, `parallel` or `matrix`"),
        (8, "`stages` needs at least one `stage`"),
        (11, "`post` has no condition `sometimes`"),
    ]


def test_declarative_structure_accepts_a_minimal_pipeline() -> None:
    text = "pipeline {\n  agent any\n  stages {\n    stage('Test') {\n      steps {\n        sh 'make test' // comment { \n      }\n    }\n  }\n}\n"

    assert jenkinsfile.check_declarative(text) == []
