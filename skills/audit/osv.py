"""OSV advisory records: which versions they affect, how severe they are, what fixes them.

Version ranges follow the OSV schema (https://ossf.github.io/osv-schema/): ``SEMVER``
ranges compare by Semantic Versioning 2.0 precedence (npm), ``ECOSYSTEM`` ranges by the
ecosystem's own order (PEP 440 for PyPI); ``GIT`` ranges name commits and cannot place a
released version, so they are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cvss
import semver
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from skills.audit.findings import Severity
from skills.audit.manifests import Ecosystem

OsvRecord = dict[str, Any]
VersionKey = Callable[[str], Any]


def semver_key(version: str) -> semver.Version:
    return semver.Version.parse(version.removeprefix("v"))


def pep440_key(version: str) -> Version:
    return Version(version)


_ECOSYSTEM_ORDER: dict[Ecosystem, VersionKey] = {"npm": semver_key, "PyPI": pep440_key}
_RANGE_ORDER: dict[str, Callable[[Ecosystem], VersionKey]] = {
    "SEMVER": lambda ecosystem: semver_key,
    "ECOSYSTEM": lambda ecosystem: _ECOSYSTEM_ORDER[ecosystem],
}


def package_name(ecosystem: Ecosystem, name: str) -> str:
    """The name OSV records use for comparison (PyPI names are case- and separator-insensitive)."""
    return canonicalize_name(name) if ecosystem == "PyPI" else name


def affected_entries(record: OsvRecord, ecosystem: Ecosystem, name: str) -> list[dict[str, Any]]:
    """The ``affected`` entries of ``record`` about this package."""
    wanted = package_name(ecosystem, name)
    return [
        entry
        for entry in record.get("affected") or []
        if (entry.get("package") or {}).get("ecosystem") == ecosystem
        and package_name(ecosystem, (entry.get("package") or {}).get("name", "")) == wanted
    ]


def affects(record: OsvRecord, ecosystem: Ecosystem, name: str, version: str) -> bool:
    """Whether ``record`` (not withdrawn) affects ``name`` at exactly ``version``.

    >>> record = {"affected": [{"package": {"ecosystem": "PyPI", "name": "Requests"},
    ...   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}]}]}
    >>> affects(record, "PyPI", "requests", "2.30.0"), affects(record, "PyPI", "requests", "2.31.0")
    (True, False)
    """
    if record.get("withdrawn"):
        return False
    for entry in affected_entries(record, ecosystem, name):
        if version in (entry.get("versions") or []):
            return True
        for version_range in entry.get("ranges") or []:
            order = _RANGE_ORDER.get(version_range.get("type", ""))
            if order and _in_range(version, version_range.get("events") or [], order(ecosystem)):
                return True
    return False


def _in_range(version: str, events: list[dict[str, str]], key: VersionKey) -> bool:
    """OSV's evaluation: walk the events in version order; introduced opens, fixed/last_affected close."""
    try:
        current = key(version)
        ordered = sorted(events, key=lambda event: _event_key(event, key))
    except (ValueError, TypeError, InvalidVersion):
        return False  # a version this order cannot read cannot be placed in the range
    affected = False
    for event in ordered:
        if "introduced" in event and (event["introduced"] == "0" or current >= key(event["introduced"])):
            affected = True
        elif "fixed" in event and current >= key(event["fixed"]):
            affected = False
        elif "last_affected" in event and current > key(event["last_affected"]):
            affected = False
    return affected


def _event_key(event: dict[str, str], key: VersionKey) -> tuple[int, Any]:
    value = next((event[kind] for kind in ("introduced", "fixed", "last_affected") if kind in event), None)
    if value is None:
        return (2, None)  # "limit" events bound git ranges only; they never open or close one here
    return (0, None) if value == "0" else (1, key(value))


def fixed_versions(record: OsvRecord, ecosystem: Ecosystem, name: str) -> list[str]:
    """Every version named as a fix for this package, in the record's order."""
    fixes = [
        event["fixed"]
        for entry in affected_entries(record, ecosystem, name)
        for version_range in entry.get("ranges") or []
        if version_range.get("type") in _RANGE_ORDER
        for event in version_range.get("events") or []
        if "fixed" in event
    ]
    return list(dict.fromkeys(fixes))


def severity_of(record: OsvRecord) -> Severity | None:
    """The record's severity: from its CVSS vector(s), else its database's rating (GitHub's advisories carry one).

    None when the record rates nothing (most PyPA advisories do not); its aliases may.
    """
    scores = [_cvss_score(entry) for entry in record.get("severity") or []]
    known = [score for score in scores if score is not None]
    if known:
        return severity_for_score(max(known))
    rating = str((record.get("database_specific") or {}).get("severity", "")).lower()
    if rating == "moderate":
        return "medium"
    if rating in ("critical", "high", "medium", "low"):
        return rating  # type: ignore[return-value]
    return None


def cvss_vector(record: OsvRecord) -> str | None:
    """The record's highest-scoring CVSS vector, for the report."""
    scored = [(score, entry["score"]) for entry in record.get("severity") or [] if (score := _cvss_score(entry)) is not None]
    return max(scored)[1] if scored else None


def _cvss_score(entry: dict[str, str]) -> float | None:
    vector = entry.get("score", "")
    calculators = {"CVSS_V3": cvss.CVSS3, "CVSS_V4": cvss.CVSS4, "CVSS_V2": cvss.CVSS2}
    calculator = calculators.get(entry.get("type", ""))
    if calculator is None:
        return None
    try:
        return float(calculator(vector).base_score)
    except (cvss.CVSSError, ValueError, KeyError):
        return None


def severity_for_score(score: float) -> Severity:
    """CVSS's qualitative scale (a score of 0.0 rates "none"; an advisory is at least low)."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


def summary_of(record: OsvRecord) -> str:
    """One line describing the advisory: its summary, else the start of its details.

    Many PyPA records open with a sentence about the project itself, so the details are
    kept whole up to a length rather than cut at the first sentence.
    """
    summary = (record.get("summary") or "").strip()
    if summary:
        return summary
    details = " ".join((record.get("details") or "").split())
    return details if len(details) <= 200 else details[:200].rsplit(" ", 1)[0] + " …"
