"""How random a string looks, and how random it must look to be reported, per kind of string.

Shannon entropy in bits per character, measured over the string's own characters. A
string's *charset* decides its ceiling (hex tops out at 4 bits, base64 at 6), so each
charset has its own threshold; a value assigned to a name like ``api_key`` needs less
randomness to be believed than a lone string in the middle of code. The thresholds were
tuned on the labelled corpus in ``tests/secrets_corpus`` (see the README's figures): the
default ones keep precision above 90%, the security persona's trade some of it for recall.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Charset = Literal["hex", "base64", "other"]
Context = Literal["keyed", "free"]

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=_\-.~]+$")


def shannon_entropy(text: str) -> float:
    """Bits per character.

    >>> round(shannon_entropy("aaaa"), 2), round(shannon_entropy("abcd"), 2)
    (0.0, 2.0)
    """
    if not text:
        return 0.0
    counts = Counter(text)
    return sum(n / len(text) * math.log2(len(text) / n) for n in counts.values())


def charset(text: str) -> Charset:
    if _HEX.match(text):
        return "hex"
    if _BASE64.match(text):
        return "base64"
    return "other"


@dataclass(frozen=True)
class Threshold:
    min_length: int
    min_entropy: float


# (context, charset) -> threshold. "keyed": the value of a secret-sounding name;
# "free": any quoted string of the file.
DEFAULT_THRESHOLDS: dict[tuple[Context, Charset], Threshold] = {
    ("keyed", "hex"): Threshold(16, 3.0),
    ("keyed", "base64"): Threshold(16, 3.5),
    ("keyed", "other"): Threshold(16, 3.6),
    # A lone hex string is a digest (a checksum, a commit, a MAC) far more often than a key:
    # keys in hex are written next to a name, which the keyed thresholds cover.
    ("free", "hex"): Threshold(10_000, 9.0),
    ("free", "base64"): Threshold(32, 4.6),
    ("free", "other"): Threshold(10_000, 9.0),  # punctuation-rich free text is prose or code, not a key
}
STRICT_THRESHOLDS: dict[tuple[Context, Charset], Threshold] = {
    ("keyed", "hex"): Threshold(12, 2.8),
    ("keyed", "base64"): Threshold(12, 3.2),
    ("keyed", "other"): Threshold(12, 3.3),
    ("free", "hex"): Threshold(24, 3.2),
    ("free", "base64"): Threshold(20, 4.2),
    ("free", "other"): Threshold(10_000, 9.0),
}


def looks_random(value: str, context: Context, strict: bool = False) -> bool:
    """Whether ``value`` is random enough, for its charset and context, to be a key.

    >>> looks_random("6f1ed002ab5595859014ebf0951522d9", "keyed")
    True
    >>> looks_random("aaaaaaaaaaaaaaaaaaaaaaaa", "keyed")
    False
    """
    thresholds = STRICT_THRESHOLDS if strict else DEFAULT_THRESHOLDS
    threshold = thresholds[(context, charset(value))]
    return len(value) >= threshold.min_length and shannon_entropy(value) >= threshold.min_entropy


def has_mixed_classes(value: str, classes: int = 2) -> bool:
    """At least ``classes`` of: lower case, upper case, digits, other characters."""
    kinds = [
        any(c.islower() for c in value),
        any(c.isupper() for c in value),
        any(c.isdigit() for c in value),
        any(not c.isalnum() for c in value),
    ]
    return sum(kinds) >= classes
