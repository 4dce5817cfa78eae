"""Hardcoded secrets: detect-secrets' plugins plus provider rules, a baseline, and truffleHog if present.

Accepted findings live in the project's ``.secrets.baseline`` (detect-secrets' own format,
so ``detect-secrets scan`` and ``detect-secrets audit`` maintain it): a secret listed there
for its file is not reported again, wherever its line moves, unless audited as real
(``"is_secret": true``). A line marked ``pragma: allowlist secret`` is never reported.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class, get_plugins_from_file
from detect_secrets.core.scan import scan_file
from detect_secrets.settings import get_plugins, transient_settings

from skills.audit.findings import Finding, Severity
from skills.audit.project_files import project_files
from skills.commands import run_command

BASELINE_FILE = ".secrets.baseline"
PROVIDER_RULES = Path(__file__).with_name("secret_rules.py")
# Minified bundles and data dumps: slow to scan line by line and rarely where keys are written.
MAX_FILE_BYTES = 2_000_000
ENTROPY_PLUGINS = ({"name": "Base64HighEntropyString", "limit": 4.5}, {"name": "HexHighEntropyString", "limit": 3.0})
# Public IP addresses are not secrets; entropy plugins are added only for a strict scan (noisy).
_LEFT_OUT = {"IPPublicDetector", "Base64HighEntropyString", "HexHighEntropyString"}
# detect-secrets keeps its settings in one global: one scan at a time per process.
_SETTINGS_LOCK = threading.Lock()

_GENERIC_TYPES = {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String"}
_SEVERITY_BY_TYPE: dict[str, Severity] = {
    "Private Key": "critical",
    "Secret Keyword": "medium",
    "Basic Auth Credentials": "medium",
    "JSON Web Token": "medium",
    "Base64 High Entropy String": "low",
    "Hex High Entropy String": "low",
}
SECRET_FIX = (
    "Remove it from the file and rotate it at the provider (it may already be in version control "
    "history); load it from the environment or a secret manager instead. If it is not a secret or "
    f"is accepted, record it in {BASELINE_FILE} (`detect-secrets scan --baseline {BASELINE_FILE}`) "
    "or mark the line `pragma: allowlist secret`."
)


@dataclass
class SecretScan:
    findings: list[Finding] = field(default_factory=list)
    accepted: int = 0  # found, but listed in the baseline
    files_scanned: int = 0
    scanners: list[str] = field(default_factory=list)


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never enough to use it (and not its length).

    >>> mask("AKIAZ7VRSQ5UOYJ4XH2B"), mask("hunter2")
    ('AKIA********', 'h********')
    """
    return secret[: min(4, len(secret) // 4)] + "*" * 8


def secret_hash(secret: str) -> str:
    """detect-secrets' ``hashed_secret``: what a baseline stores instead of the secret."""
    return hashlib.sha1(secret.encode("utf-8")).hexdigest()


def scan_secrets(root: Path, strict: bool = False) -> SecretScan:
    """Scan every project file with detect-secrets' plugins and the provider rules.

    ``strict`` adds the high-entropy-string plugins, which find unknown kinds of keys at
    the price of false positives.
    """
    scan = SecretScan(scanners=["detect-secrets"])
    baseline = load_baseline(root)
    with _SETTINGS_LOCK, transient_settings({"plugins_used": _plugins_used(strict)}):
        denylists = {plugin.secret_type: getattr(plugin, "denylist", ()) for plugin in get_plugins()}
        for relative in project_files(root):
            path = root / relative
            if relative == BASELINE_FILE or path.stat().st_size > MAX_FILE_BYTES:
                continue  # the baseline holds hashes of secrets, which look like secrets themselves
            scan.files_scanned += 1
            lines: list[str] | None = None
            for potential in scan_file(str(path)):
                if (relative, potential.type, potential.secret_hash) in baseline:
                    scan.accepted += 1
                    continue
                lines = lines if lines is not None else path.read_text(encoding="utf-8", errors="replace").splitlines()
                line = lines[potential.line_number - 1] if 0 < potential.line_number <= len(lines) else ""
                value = _whole_match(potential.secret_value or "", line, denylists.get(potential.type, ()))
                scan.findings.append(secret_finding(potential.type, relative, potential.line_number, value, potential.secret_hash))
    scan.findings = _most_specific(scan.findings)
    return scan


def _most_specific(findings: list[Finding]) -> list[Finding]:
    """One line, one report: a provider's rule names a key better than "high entropy" does."""
    specific = {(finding.path, finding.line) for finding in findings if finding.rule not in _GENERIC_TYPES}
    return [f for f in findings if f.rule not in _GENERIC_TYPES or (f.path, f.line) not in specific]


def _plugins_used(strict: bool) -> list[dict[str, Any]]:
    # detect-secrets caches its plugin classes for the settings it first saw: clear it so it
    # lists its own plugins now and finds the provider rules once they are configured.
    get_mapping_from_secret_type_to_class.cache_clear()
    builtin = [cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()]
    get_mapping_from_secret_type_to_class.cache_clear()
    plugins: list[dict[str, Any]] = [{"name": name} for name in builtin if name not in _LEFT_OUT]
    plugins += [{"name": cls.__name__, "path": f"file://{PROVIDER_RULES}"} for cls in get_plugins_from_file(str(PROVIDER_RULES))]
    if strict:
        plugins += [dict(plugin) for plugin in ENTROPY_PLUGINS]
    return plugins


def _whole_match(secret: str, line: str, denylist: Any) -> str:
    """The whole token a regex rule matched: some detect-secrets rules capture only a prefix (``ghp``)."""
    for pattern in denylist:
        for match in pattern.finditer(line):
            captured = match.group(1) if pattern.groups else match.group(0)
            if captured == secret:
                return match.group(0)
    return secret


def secret_finding(secret_type: str, path: str, line: int, value: str, hashed: str) -> Finding:
    return Finding(
        category="secret",
        rule=secret_type,
        severity=_SEVERITY_BY_TYPE.get(secret_type, "high"),
        title=f"{secret_type} in {path}",
        path=path,
        line=line,
        fix=SECRET_FIX,
        details={"masked": mask(value), "hashedSecret": hashed},
    )


def load_baseline(root: Path) -> set[tuple[str, str, str]]:
    """(file, secret type, hashed secret) of every accepted secret in the project's baseline."""
    path = root / BASELINE_FILE
    if not path.is_file():
        return set()
    try:
        results = json.loads(path.read_text(encoding="utf-8")).get("results") or {}
    except (ValueError, AttributeError):
        return set()
    return {
        (filename, entry.get("type", ""), entry.get("hashed_secret", ""))
        for filename, entries in results.items()
        for entry in entries
        if entry.get("is_secret") is not True
    }


def trufflehog_available() -> bool:
    return shutil.which("trufflehog") is not None


def scan_with_trufflehog(root: Path, timeout: float, known: list[Finding]) -> list[Finding]:
    """Findings of truffleHog (v3) that detect-secrets did not already report at that line.

    Run without verification: verifying would send each secret to its provider. Its output
    holds the raw secrets, so it is read here and never streamed into the run's log (the
    reason this read-only scan uses ``run_command`` rather than ``ctx.run``).
    """
    argv = ["trufflehog", "filesystem", str(root), "--json", "--no-update", "--no-verification"]
    result = run_command(argv, cwd=root, timeout=timeout)
    taken = {(finding.path, finding.line) for finding in known}
    baseline = load_baseline(root)
    found: list[Finding] = []
    for line in result.output.splitlines():
        try:
            item = json.loads(line)
            location = item["SourceMetadata"]["Data"]["Filesystem"]
        except (ValueError, KeyError, TypeError):
            continue  # truffleHog's own log lines
        path = Path(location["file"])
        relative = (path.relative_to(root) if path.is_absolute() else path).as_posix()
        number = int(location.get("line") or 0)
        secret_type = f"truffleHog {item.get('DetectorName', 'secret')}"
        raw = str(item.get("Raw", ""))
        if (relative, number) in taken or (relative, secret_type, secret_hash(raw)) in baseline:
            continue
        taken.add((relative, number))
        found.append(secret_finding(secret_type, relative, number, raw, secret_hash(raw)))
    return found

