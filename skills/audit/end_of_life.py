"""End-of-life release lines: a framework or runtime line that gets no more security fixes is a finding of its own.

An advisory database only lists what was found and fixed; a line past its end of life gets
neither, so its next vulnerability will never be fixed there. The release table is data
(``data/end_of_life.json``, copied from endoflife.date, dated), so the check runs offline;
lines are judged against today's date, since their end-of-life dates are announced ahead.

Versions come from the dependencies (exact versions, or the major an npm range fixes) and
from the files that pin a runtime: ``.python-version``, ``runtime.txt``, ``.nvmrc``,
``.node-version`` and the ``FROM`` lines of Dockerfiles.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from skills.audit.findings import Finding
from skills.audit.manifests import Dependency, ManifestScan
from skills.audit.project_files import line_of, project_files

EOL_DATA = Path(__file__).with_name("data") / "end_of_life.json"
_NPM_RANGE_MAJOR = re.compile(r"^\s*[\^~]?v?(\d+)(?:\.(\d+|x|\*))?")
_VERSION = re.compile(r"(\d+)(?:\.(\d+))?")
_DOCKER_FROM = re.compile(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(?:[\w.\-]+/)?(python|node)(?::([\w.\-]+))?")


@dataclass(frozen=True)
class ReleaseLine:
    product: str
    version: str  # the version as found ("3.0.14", "^16.8.0", "python:3.7-slim")
    path: str
    line: int | None


@lru_cache(maxsize=1)
def eol_table() -> dict[str, Any]:
    """The release table and its date, read once."""
    return json.loads(EOL_DATA.read_text(encoding="utf-8"))


def end_of_life_findings(root: Path, scan: ManifestScan, today: date | None = None) -> list[Finding]:
    """A finding per release line in use that is past its end of life (or only out of active support)."""
    day = today or date.today()
    found: dict[tuple[str, str, str], Finding] = {}
    for line in [*_package_lines(scan.dependencies), *_runtime_lines(root)]:
        finding = _judge(line, day)
        if finding is not None:
            found.setdefault((line.product, finding.details["cycle"], line.path), finding)
    return list(found.values())


def _package_lines(dependencies: list[Dependency]) -> list[ReleaseLine]:
    packages = {
        (product["ecosystem"], product["package"]): key
        for key, product in eol_table()["products"].items()
        if "package" in product
    }
    lines = []
    for dependency in dependencies:
        product = packages.get((dependency.ecosystem, dependency.name))
        if product is None:
            continue
        version = dependency.version or (dependency.spec if dependency.ecosystem == "npm" else None)
        if version:
            lines.append(ReleaseLine(product, version, dependency.source, dependency.line))
    return lines


def _runtime_lines(root: Path) -> list[ReleaseLine]:
    lines = []
    for relative in project_files(root):
        name = PurePosixPath(relative).name
        if name not in (".python-version", "runtime.txt", ".nvmrc", ".node-version") and not name.startswith("Dockerfile"):
            continue
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        if name.startswith("Dockerfile"):
            for match in _DOCKER_FROM.finditer(text):
                if match.group(2):
                    product = "python" if match.group(1) == "python" else "nodejs"
                    lines.append(ReleaseLine(product, match.group(2), relative, line_of(text, match.group(0).strip())))
        elif text.strip():
            product = "nodejs" if name in (".nvmrc", ".node-version") else "python"
            lines.append(ReleaseLine(product, text.strip().splitlines()[0].removeprefix("python-"), relative, 1))
    return lines


def cycle_of(product: dict[str, Any], version: str) -> str | None:
    """The release line a version belongs to (``3.0`` for Django 3.0.14, ``16`` for React ``^16.8.0``).

    >>> cycle_of({"cycle": "minor", "releases": {"3.0": {}}}, "3.0.14"), cycle_of({"cycle": "major", "releases": {"16": {}}}, "^16.8.0")
    ('3.0', '16')
    """
    match = _NPM_RANGE_MAJOR.match(version) if version[:1] in "^~" else _VERSION.search(version)
    if match is None:
        return None
    major, minor = match.group(1), match.group(2)
    candidates = [f"{major}.{minor}", major] if product["cycle"] == "minor" and minor and minor.isdigit() else [major]
    return next((candidate for candidate in candidates if candidate in product["releases"]), None)


def _judge(line: ReleaseLine, day: date) -> Finding | None:
    table = eol_table()
    product = table["products"][line.product]
    cycle = cycle_of(product, line.version)
    if cycle is None:
        return None
    release = product["releases"][cycle]
    eol, eoas = release.get("eol"), release.get("eoas")
    supported = _supported_lines(product, day)
    advice = f"Upgrade to a supported {product['name']} line ({', '.join(supported[:3])}); see {product['url']}."
    details = {
        "product": product["name"], "cycle": cycle, "version": line.version, "endOfLife": eol,
        "endOfActiveSupport": eoas, "dataSource": table["source"], "dataDate": table["dataDate"], "url": product["url"],
    }
    if eol and date.fromisoformat(eol) <= day:
        return Finding(
            category="dependency", rule="end-of-life", severity="high", path=line.path, line=line.line,
            title=f"{product['name']} {cycle} reached its end of life on {eol}: it gets no more security fixes",
            fix=advice, details=details,
        )
    if eoas and date.fromisoformat(eoas) <= day:
        return Finding(
            category="dependency", rule="end-of-active-support", severity="low", path=line.path, line=line.line,
            title=f"{product['name']} {cycle} is out of active support since {eoas}: critical security fixes only",
            fix=advice, details=details,
        )
    return None


def _supported_lines(product: dict[str, Any], day: date) -> list[str]:
    """Lines still getting fixes, newest first."""
    def alive(release: dict[str, Any]) -> bool:
        return release.get("eol") is None or date.fromisoformat(release["eol"]) > day

    return [cycle for cycle, release in product["releases"].items() if alive(release) and not release.get("eoas")]
