"""Provider rules (``provider_rules.toml``): documented token formats, matched line by line.

The rules are data so that adding a provider is one TOML table; each is checked with a cheap
keyword test before its regex runs, which keeps a scan of a large tree fast.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from skills.audit.findings import Severity
from skills.audit.secrets.candidates import Candidate, Specificity
from skills.audit.secrets.entropy import shannon_entropy
from skills.audit.secrets.placeholders import is_placeholder

RULES_FILE = Path(__file__).with_name("provider_rules.toml")


@dataclass(frozen=True)
class ProviderRule:
    name: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]
    severity: Severity
    min_entropy: float = 0.0

    def matches(self, line: str, lowered: str) -> Iterator[tuple[str, int]]:
        """(secret, column) for each match on the line."""
        if not any(keyword in lowered for keyword in self.keywords):
            return
        for match in self.pattern.finditer(line):
            group = 1 if self.pattern.groups else 0
            secret = match.group(group)
            if secret and shannon_entropy(secret) >= self.min_entropy:
                yield secret, match.start(group)


@lru_cache(maxsize=1)
def provider_rules() -> tuple[ProviderRule, ...]:
    """The rules of ``provider_rules.toml``, compiled once per process."""
    document = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    return tuple(
        ProviderRule(
            name=rule["name"],
            pattern=re.compile(rule["regex"]),
            keywords=tuple(keyword.lower() for keyword in rule["keywords"]),
            severity=rule["severity"],
            min_entropy=float(rule.get("min_entropy", 0.0)),
        )
        for rule in document["rule"]
    )


def provider_candidates(lines: list[str]) -> Iterator[Candidate]:
    """Every provider-format token on every line (placeholders and documented examples left out)."""
    rules = provider_rules()
    for number, line in enumerate(lines, start=1):
        lowered = line.lower()
        for rule in rules:
            for secret, column in rule.matches(line, lowered):
                if not is_placeholder(secret):
                    yield Candidate(rule.name, secret, number, rule.severity, Specificity.PROVIDER, column)
