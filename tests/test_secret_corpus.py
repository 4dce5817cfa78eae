"""Recall and precision of the secret scan on the labelled corpus, beside detect-secrets' on the same files.

The corpus (``secret_corpus``) has two halves: ``tuning/``, which the detectors and their
entropy thresholds were tuned on, and ``holdout/``, written afterwards and scored blind once
before the last round of fixes (the README gives both figures). The default persona must
reach 90% recall and 90% precision on the whole corpus; the figures of every run are printed.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from detect_secrets import SecretsCollection
from detect_secrets.settings import default_settings

from skills.audit.findings import Finding
from skills.audit.project_files import project_files
from skills.audit.secrets import scan_secrets, secret_hash
from tests.secret_corpus import Corpus, Reported, Score, build_corpus, score

MINIMUM = 0.90


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("secrets") / "corpus")


def reported_by_us(findings: list[Finding]) -> list[Reported]:
    return [Reported(f.path, tuple(f.details.get("lines") or [f.line or 1]), f.details["hashedSecret"]) for f in findings]


def reported_by_detect_secrets(root: Path) -> list[Reported]:
    """detect-secrets with its default plugins and filters (what `detect-secrets scan` runs), one report per value."""
    previous = Path.cwd()
    os.chdir(root)  # detect-secrets reads the files by their relative names
    try:
        with default_settings():
            collection = SecretsCollection(root=str(root))
            collection.scan_files(*project_files(root), num_processors=1)
            pairs: dict[tuple[str, str], list[int]] = {}
            for filename, secret in collection:
                pairs.setdefault((filename, secret.secret_value or ""), []).append(secret.line_number)
    finally:
        os.chdir(previous)
    return [Reported(path, tuple(lines), secret_hash(value)) for (path, value), lines in pairs.items()]


def figures(name: str, result: Score) -> str:
    return (
        f"{name:<44} recall {result.recall:6.1%} ({result.found}/{result.planted})   "
        f"precision {result.precision:6.1%} ({result.true_findings}/{result.findings})"
    )


def test_corpus_is_large_and_varied(corpus: Corpus) -> None:
    file_types = {PurePosixPath(s.path).suffix or PurePosixPath(s.path).name for s in corpus.planted}

    assert len(corpus.planted) >= 150
    assert len(corpus.kinds) >= 40
    assert len(corpus.lookalikes) >= 50
    assert len(file_types) >= 30, sorted(file_types)
    assert corpus.binary_files == ["tuning/mobile/android/app/release.jks"]


def test_default_persona_finds_90_percent_of_planted_secrets_with_90_percent_precision(
    corpus: Corpus, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = reported_by_us(scan_secrets(corpus.root).findings)
    strict = reported_by_us(scan_secrets(corpus.root, strict=True).findings)
    theirs = reported_by_detect_secrets(corpus.root)
    default, holdout = score(corpus, ours), score(corpus, ours, "holdout/")

    with capsys.disabled():
        print(f"\nsecrets corpus: {len(corpus.planted)} planted secrets of {len(corpus.kinds)} kinds, "
              f"{len(corpus.lookalikes)} look-alikes")
        print(figures("skillworks, default persona", default))
        print(figures("skillworks, default persona, holdout/ only", holdout))
        print(figures("skillworks, security persona", score(corpus, strict)))
        print(figures("detect-secrets (default plugins and filters)", score(corpus, theirs)))
        for secret in default.missed:
            print(f"  missed: {secret.path}:{secret.lines[0]} ({secret.kind})")
        for report in default.false_findings:
            print(f"  false positive: {report.path}:{report.lines[0]}")

    assert default.recall >= MINIMUM
    assert default.precision >= MINIMUM


def test_look_alikes_are_not_reported_by_the_default_persona(corpus: Corpus) -> None:
    false_findings = score(corpus, reported_by_us(scan_secrets(corpus.root).findings)).false_findings
    wrong_lines = {(report.path, line) for report in false_findings for line in report.lines}

    reported = [(item.path, item.line) for item in corpus.lookalikes if (item.path, item.line) in wrong_lines]

    # Supabase publishes its "anon" key on purpose, but it is a signed JWT, and a JWT is reported wherever it is.
    assert reported == [("holdout/frontend/.env", 3)]
