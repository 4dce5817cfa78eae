"""Dependency checks: known-malicious names, typosquats of popular names, unpinned versions,
remote sources, and npm install scripts.

The names are data shipped with skillworks (``data/``): the 5,000 most downloaded PyPI and
npm packages (from the registries' public download rankings) and known-malicious packages
from public incident reports. A name that is itself popular is never a typosquat; one that
is one edit (or one common confusion: a ``python-``/``-js`` affix, ``rn`` for ``m``, ``1``
for ``l``, a swapped pair) away from a popular name is.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from skills.definition import SkillDefinition
from skills.marketplace.checks import dependency_name, pinned_name
from skills.marketplace.scan.report import ScanFinding

DATA = Path(__file__).with_name("data")
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "preuninstall", "postuninstall", "prepare")
_DROPPER = re.compile(r"\b(curl|wget|nc|bash|sh|powershell|node\s+-e|eval|base64|http[s]?://)\b|\|\s*sh", re.I)
_AFFIXES = ("python-", "py-", "py", "-python", "-py", "python3-", "node-", "-js", ".js", "js-", "-node", "2", "3", "-cli")
_CONFUSIONS = (("rn", "m"), ("m", "rn"), ("1", "l"), ("l", "1"), ("0", "o"), ("o", "0"), ("vv", "w"), ("w", "vv"), ("i", "l"), ("l", "i"))


def dependency_findings(folder: Path, definition: SkillDefinition) -> list[ScanFinding]:
    findings = []
    declared = [(ecosystem, spec, "SKILL.md") for ecosystem, specs in definition.dependencies.items() for spec in specs]
    for ecosystem, spec, file in declared + _manifest_dependencies(folder):
        findings += _check_dependency(ecosystem if ecosystem in ("python", "npm") else "python", spec, file)
    for manifest in sorted(folder.rglob("package.json")):
        findings += _install_scripts(manifest, folder)
    return findings


def _check_dependency(ecosystem: str, spec: str, file: str) -> list[ScanFinding]:
    name = normalized(ecosystem, dependency_name(ecosystem, spec))
    version = _pinned_version(ecosystem, spec)
    findings = []

    def add(rule: str, severity: str, message: str) -> None:
        findings.append(ScanFinding(scanner="dependencies", rule=rule, severity=severity, file=file, excerpt=spec, message=message))  # type: ignore[arg-type]

    if is_known_malicious(ecosystem, name, version):
        add("known-malicious-dependency", "critical", f"{ecosystem} package {name!r} is known malware")
    else:
        target = typosquat_target(ecosystem, name)
        if target:
            add("typosquat-dependency", "critical", f"{ecosystem} package {name!r} imitates the popular {target!r}")
    if re.search(r"(://|git\+|github:|file:)", spec):
        add("dependency-remote-source", "high", "installs from a URL or repository instead of the registry")
    elif pinned_name(ecosystem, spec) is None:
        add("unpinned-dependency", "high", "not pinned to one exact version")
    return findings


def _pinned_version(ecosystem: str, spec: str) -> str | None:
    if pinned_name(ecosystem, spec) is None:
        return None
    return spec.rsplit("@", 1)[1] if ecosystem == "npm" else re.split(r"===?", spec, maxsplit=1)[1].strip()


def _manifest_dependencies(folder: Path) -> list[tuple[str, str, str]]:
    """Dependencies a package lists outside SKILL.md: requirements files and package.json."""
    found = []
    for requirements in sorted(folder.rglob("requirements*.txt")):
        relative = requirements.relative_to(folder).as_posix()
        for line in requirements.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                found.append(("python", line, relative))
    for manifest in sorted(folder.rglob("package.json")):
        relative = manifest.relative_to(folder).as_posix()
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            for name, version in (_read_json(manifest).get(section) or {}).items():
                found.append(("npm", f"{name}@{version}", relative))
    return found


def _install_scripts(manifest: Path, folder: Path) -> list[ScanFinding]:
    scripts = _read_json(manifest).get("scripts") or {}
    findings = []
    for hook in INSTALL_SCRIPTS:
        command = scripts.get(hook)
        if not isinstance(command, str):
            continue
        dropper = bool(_DROPPER.search(command))
        findings.append(ScanFinding(
            scanner="dependencies", rule="npm-install-script-dropper" if dropper else "npm-install-script",
            severity="critical" if dropper else "high", file=manifest.relative_to(folder).as_posix(), excerpt=f"{hook}: {command}",
            message=f"npm runs the {hook!r} script on install" + (": it downloads or runs code" if dropper else ""),
        ))
    return findings


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def normalized(ecosystem: str, name: str) -> str:
    """PyPI's normalisation (PEP 503); npm names are lowercase already."""
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "python" else name.lower()


@lru_cache(maxsize=2)
def popular_names(ecosystem: str) -> frozenset[str]:
    file = DATA / ("popular-pypi.txt" if ecosystem == "python" else "popular-npm.txt")
    return frozenset(normalized(ecosystem, line.strip()) for line in file.read_text().splitlines() if line.strip())


@lru_cache(maxsize=1)
def _known_malicious() -> dict[tuple[str, str], set[str | None]]:
    entries: dict[tuple[str, str], set[str | None]] = {}
    for line in (DATA / "known-malicious.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ecosystem, spec = line.split()
        ecosystem = "python" if ecosystem == "pypi" else ecosystem
        name, _, version = spec.rpartition("@") if spec.rfind("@") > 0 else (spec, "", "")
        entries.setdefault((ecosystem, normalized(ecosystem, name)), set()).add(version or None)
    return entries


def is_known_malicious(ecosystem: str, name: str, version: str | None) -> bool:
    versions = _known_malicious().get((ecosystem, normalized(ecosystem, name)))
    return versions is not None and (None in versions or version in versions)


def typosquat_target(ecosystem: str, name: str) -> str | None:
    """The popular name ``name`` imitates, or None.

    >>> typosquat_target("python", "reqeusts"), typosquat_target("python", "requests"), typosquat_target("npm", "1odash")
    ('requests', None, 'lodash')
    """
    popular = popular_names(ecosystem)
    name = normalized(ecosystem, name)
    if name in popular or len(name) < 4:
        return None
    for variant in _confusions(name):
        if variant != name and variant in popular:
            return variant
    for candidate in popular:
        if abs(len(candidate) - len(name)) <= 1 and len(candidate) >= 5 and _within_one_edit(name, candidate):
            return candidate
    return None


def _confusions(name: str) -> set[str]:
    variants = set()
    for affix in _AFFIXES:
        if name.startswith(affix):
            variants.add(name[len(affix):])
        if name.endswith(affix):
            variants.add(name[: -len(affix)])
    for wrong, right in _CONFUSIONS:
        if wrong in name:
            variants.add(name.replace(wrong, right))
    variants.add(name.replace("-", ""))
    return {variant.strip("-.") for variant in variants if variant}


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours (Damerau-Levenshtein <= 1)."""
    if a == b:
        return True
    if len(a) == len(b):
        differences = [i for i in range(len(a)) if a[i] != b[i]]
        if len(differences) == 1:
            return True
        return len(differences) == 2 and differences[1] == differences[0] + 1 and a[differences[0]] == b[differences[1]] and a[differences[1]] == b[differences[0]]
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1:] == shorter:
            return True
    return False
