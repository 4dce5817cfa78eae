"""Static analysis of the project's own code: bandit for Python, a syntax-tree rule set for JavaScript/TypeScript.

``scan_code(root)`` reads every source file of the project (not its dependencies: installed
trees are skipped, and minified bundles too) and returns findings in the audit's one format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from skills.audit.code.js_rules import Match, check_file
from skills.audit.code.js_syntax import JS_SUFFIXES, parse
from skills.audit.code.python_bandit import NAME as BANDIT
from skills.audit.code.python_bandit import bandit_version, scan_python
from skills.audit.findings import Finding
from skills.audit.project_files import project_files

JS_ENGINE = "skillworks JavaScript/TypeScript rules (tree-sitter)"
# Bundles and generated code: not the project's own writing, and slow to parse.
MAX_SOURCE_BYTES = 1_000_000
_GENERATED = (".min.js", ".bundle.js", ".d.ts")


@dataclass
class CodeScan:
    findings: list[Finding] = field(default_factory=list)
    python_files: int = 0
    javascript_files: int = 0
    scanners: list[str] = field(default_factory=list)


def scan_code(root: Path, strict: bool = False) -> CodeScan:
    """Findings of bandit (Python) and the JS/TS rules in the project at ``root``."""
    python, javascript = [], []
    for relative in project_files(root):
        if (root / relative).stat().st_size > MAX_SOURCE_BYTES or relative.endswith(_GENERATED):
            continue
        suffix = PurePosixPath(relative).suffix.lower()
        if suffix == ".py":
            python.append(relative)
        elif suffix in JS_SUFFIXES:
            javascript.append(relative)
    scan = CodeScan(python_files=len(python), javascript_files=len(javascript))
    scan.scanners = [f"{BANDIT} {bandit_version()}", JS_ENGINE]
    scan.findings.extend(scan_python(root, python, strict))
    for relative in javascript:
        tree = parse(relative, (root / relative).read_bytes())
        scan.findings.extend(_finding(relative, match) for match in check_file(tree))
    return scan


def _finding(path: str, match: Match) -> Finding:
    rule = match.rule
    title = rule.title + (f" ({match.detail})" if match.detail else "")
    return Finding(
        category="code",
        rule=rule.id,
        severity=rule.severity,
        title=title,
        path=path,
        line=match.node.start_point[0] + 1,
        fix=rule.fix,
        details={"scanner": JS_ENGINE, "cwe": rule.cwe, "column": match.node.start_point[1]},
    )
