"""Reading ``yarn.lock`` (v1 and Berry) and ``pnpm-lock.yaml`` (lockfile versions 5 to 9) into locked dependencies.

Only packages from the registry are kept: workspace members, links, patches, git and file
dependencies name no registry version an advisory could be matched against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import yaml

from skills.audit.project_files import line_of

LockedPackage = tuple[str, str, int | None]  # name, version, line
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-+]+)?$")
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# v5: name/1.0.0, with peers appended after "_"; v6 and v9: name@1.0.0, with peers in parentheses.
_PNPM_V5_KEY = re.compile(r"^(@[^/@]+/[^/@]+|[^/@][^/@]*)/(\d+\.\d+\.\d+[^_/()]*)(?:_.*)?$")
_PNPM_KEY = re.compile(r"^(@[^/@]+/[^/@]+|[^/@][^/@]*)@(\d+\.\d+\.\d+[^_()]*)(?:\(.*\))?$")


def read_yarn_lock(text: str) -> Iterator[LockedPackage]:
    """Both formats: v1 (yarn's own syntax) and Berry (YAML with ``__metadata``)."""
    if "__metadata:" in text:
        yield from _read_yarn_berry(text)
    else:
        yield from _read_yarn_v1(text)


def _read_yarn_v1(text: str) -> Iterator[LockedPackage]:
    """Entries are unindented ``spec, spec:`` headers followed by an indented ``version "x.y.z"`` line."""
    names: list[str] = []
    header_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        if not line[0].isspace() and line.rstrip().endswith(":"):
            specs = [spec.strip().strip('"') for spec in line.rstrip()[:-1].split(",")]
            names = sorted({_package_of(spec) for spec in specs if spec})
            header_line = number
            continue
        stripped = line.strip()
        if names and line.startswith("  ") and not line.startswith("    ") and stripped.startswith("version "):
            version = stripped.split(" ", 1)[1].strip().strip('"')
            if _SEMVER.match(version):
                for name in names:
                    yield name, version, header_line
            names = []


def _package_of(spec: str) -> str:
    """``@babel/core@^7.0.0`` -> ``@babel/core``; ``lodash@npm:^4`` -> ``lodash``."""
    at = spec.find("@", 1)
    return spec if at < 0 else spec[:at]


def _read_yarn_berry(text: str) -> Iterator[LockedPackage]:
    document = yaml.load(text, Loader=_YamlLoader) or {}
    for key, entry in document.items():
        if key == "__metadata" or not isinstance(entry, dict):
            continue
        resolution = str(entry.get("resolution", ""))
        name, _, locator = resolution.rpartition("@")
        if name and locator.startswith("npm:") and _SEMVER.match(locator[4:]):
            yield name, locator[4:], line_of(text, f"{key}:") or line_of(text, key)


def read_pnpm_lock(text: str) -> Iterator[LockedPackage]:
    """Keys of ``packages:`` (and ``snapshots:``): ``/name/1.0.0`` (v5), ``/name@1.0.0(peer)`` (v6), ``name@1.0.0`` (v9)."""
    document = yaml.load(text, Loader=_YamlLoader) or {}
    seen: set[tuple[str, str]] = set()
    for section in ("packages", "snapshots"):
        for key in (document.get(section) or {}):
            parsed = _pnpm_key(str(key))
            if parsed and parsed not in seen:
                seen.add(parsed)
                yield parsed[0], parsed[1], line_of(text, f"{key}:") or line_of(text, str(key))


def _pnpm_key(key: str) -> tuple[str, str] | None:
    bare = key.lstrip("/")
    match = _PNPM_V5_KEY.match(bare) or _PNPM_KEY.match(bare)
    if match is None or not _SEMVER.match(match.group(2)):
        return None
    return match.group(1), match.group(2)


JS_LOCKFILE_READERS: dict[str, Callable[[str], Iterator[LockedPackage]]] = {
    "yarn.lock": read_yarn_lock,
    "pnpm-lock.yaml": read_pnpm_lock,
}
