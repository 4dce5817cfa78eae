"""Environment checks from a skill's ``requires``: which tools are installed, in which version.

``requires: {node: ">=20.19", npm: ">=8", git: "*"}`` — a missing tool or a version
outside the range is an error; a tool whose version cannot be read is a warning.
Versions are probed once per process and remembered for a minute, so validating
parameters stays fast.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from skills.caching import cached_for

_VERSION_ARGS: dict[str, list[str]] = {
    "node": ["--version"],
    "npm": ["--version"],
    "git": ["--version"],
    "docker": ["--version"],
    "python": ["--version"],
}
_VERSION_PATTERN = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
_PROBE_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class ToolCheck:
    tool: str
    required: str
    found: str | None
    ok: bool
    message: str


@dataclass
class EnvironmentReport:
    checks: list[ToolCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@cached_for(_PROBE_TTL_SECONDS)
def installed_version(tool: str) -> str | None:
    """The tool's version as ``1.2.3``, ``""`` if it runs but says no version, None if absent."""
    executable = shutil.which(tool)
    version: str | None = None
    if executable:
        try:
            completed = subprocess.run(
                [executable, *_VERSION_ARGS.get(tool, ["--version"])],
                capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
            )
            match = _VERSION_PATTERN.search(completed.stdout + completed.stderr)
            version = match.group(1) if match else ""
        except (OSError, subprocess.TimeoutExpired):
            version = ""
    return version


def check_environment(requires: dict[str, str]) -> EnvironmentReport:
    report = EnvironmentReport()
    for tool, required in requires.items():
        check = _check_tool(tool, required)
        report.checks.append(check)
        if check.found is None or (check.found and not check.ok):
            report.errors.append(check.message)
        elif not check.ok:
            report.warnings.append(check.message)
    return report


def _check_tool(tool: str, required: str) -> ToolCheck:
    found = installed_version(tool)
    if found is None:
        return ToolCheck(tool, required, None, False, f"{tool} is not installed (needs {required}); install it and retry")
    if required.strip() in ("", "*"):
        return ToolCheck(tool, required, found, True, f"{tool} {found or '(version unknown)'} found")
    if not found:
        return ToolCheck(tool, required, found, False, f"could not read {tool}'s version; needs {required}")
    try:
        ok = Version(found) in SpecifierSet(required)
    except (InvalidSpecifier, InvalidVersion):
        return ToolCheck(tool, required, found, False, f"cannot compare {tool} {found} with {required!r}")
    message = f"{tool} {found} found" if ok else f"{tool} {found} is too old or too new: needs {required}; upgrade it and retry"
    return ToolCheck(tool, required, found, ok, message)
