"""Values that only look like secrets: placeholders, references to the environment, documentation examples.

Every detector asks ``is_placeholder`` before proposing a value, so ``password: changeme``,
``API_KEY=${API_KEY}``, ``"passwordField": "password"`` and AWS's documented example key are
never reported, whichever rule would have matched them.
"""

from __future__ import annotations

import re

# Values published in documentation as examples, or public by design (the gcloud SDK's
# installed-app client secret is in every copy of the SDK).
KNOWN_PUBLIC_VALUES = frozenset({
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "d-FL95Q19q7MQmFpd7hHD0Ty",
    # jwt.io's example token (HS256, "John Doe", secret "your-256-bit-secret")
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
})

# Words that say "put the real value here" (matched as whole words, case-insensitively).
_PLACEHOLDER_WORDS = (
    "example", "examples", "sample", "dummy", "placeholder", "changeme", "change_me", "change-me", "changethis",
    "replace", "replaceme", "redacted", "your", "yourpassword", "xxx", "todo", "fixme", "foobar", "insert",
    "fake", "mock", "notreal", "not a secret", "here", "unique phrase", "change me",
)
_PLACEHOLDER_WORD = re.compile(r"(?i)(?:^|[^a-z])(?:" + "|".join(map(re.escape, _PLACEHOLDER_WORDS)) + r")(?:[^a-z]|$)")
# Keys that providers publish on purpose (Stripe publishable keys, Mapbox public tokens, PostHog project keys).
_PUBLIC_PREFIXES = ("pk_live_", "pk_test_", "pk.eyJ", "phc_", "anonymous")
# Values that are themselves a name for a secret, not one.
_SELF_NAMES = frozenset({
    "password", "passwd", "pass", "secret", "token", "apikey", "api_key", "api-key", "key", "pwd", "none", "null", "nil",
    "true", "false", "undefined", "empty", "string", "str", "text", "required", "optional", "default", "hidden",
    "admin", "root", "user", "username", "test", "testing", "demo", "guest", "bearer", "basic", "private", "public",
    "secret_key", "secretkey", "access_token", "auth_token", "client_secret", "session", "localhost",
})
# Template, environment and code references: the value is looked up, not written down.
_REFERENCE = re.compile(
    r"""^\$\{.*\}$|^\$\(.*\)$|^\$[A-Za-z_][A-Za-z0-9_]*$|\{\{.*\}\}|\{%.*%\}|^%\(?[A-Za-z_]+\)?s?%?$|^%[A-Z_]+%$|^<[^<>]+>$|^\[[^\[\]]+\]$"""
    r"""|process\.env|os\.environ|getenv|ENV\[|env\(|System\.getenv|secrets\.|vault:|^!vault|^ENC\[|^\*+$|^•+$"""
)
_REPEATED = re.compile(r"^(.)\1+$|^(..)\2+$|^(...)\3+$|([x*#.0_\-])\4{7,}")
_SEQUENCES = ("0123456789", "1234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop")


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is obviously not a real secret.

    >>> [is_placeholder(v) for v in ("changeme", "${DB_PASSWORD}", "<your-api-key>", "xxxxxxxx", "Tr0ub4dor&3")]
    [True, True, True, True, False]
    """
    stripped = value.strip().strip("'\"`")
    if len(stripped) < 4 or stripped in KNOWN_PUBLIC_VALUES or stripped.startswith(_PUBLIC_PREFIXES):
        return True
    lowered = stripped.lower()
    if lowered in _SELF_NAMES or _REFERENCE.search(stripped) or _REPEATED.search(lowered):
        return True
    if any(sequence in lowered for sequence in _SEQUENCES):
        return True
    return bool(_PLACEHOLDER_WORD.search(stripped.replace("-", " ").replace("_", " "))) or "EXAMPLE" in stripped
