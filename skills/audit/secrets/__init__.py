"""Hardcoded secrets: the built-in engine, the project's baseline, and truffleHog when it is installed.

``scan_secrets(root)`` is the entry point (the security audit's step and the marketplace's
upload scan call it): every file of the project goes through the detectors that fit its
type (``scanner``), and each secret value is reported once per file with every line it is on.
"""

from skills.audit.secrets.baseline import ALLOWLIST_PRAGMA, load_baseline
from skills.audit.secrets.candidates import BASELINE_FILE, SECRET_FIX, mask, secret_hash
from skills.audit.secrets.scanner import ENGINE_NAME, SecretScan, scan_file_text, scan_secrets
from skills.audit.secrets.trufflehog import scan_with_trufflehog, trufflehog_available

__all__ = [
    "ALLOWLIST_PRAGMA",
    "BASELINE_FILE",
    "ENGINE_NAME",
    "SECRET_FIX",
    "SecretScan",
    "load_baseline",
    "mask",
    "scan_file_text",
    "scan_secrets",
    "scan_with_trufflehog",
    "secret_hash",
    "trufflehog_available",
]
