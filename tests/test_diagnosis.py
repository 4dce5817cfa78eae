"""Diagnosis of failed steps, fed the real outputs captured in tests/fixtures/command_output/.

Each fixture is named ``<rule-id>[--variant].txt`` and was produced by provoking that
failure for real (``capture.py`` re-captures them); its first line records argv, exit
code and how. The exception cases run real commands through ``run_command``.
"""

from __future__ import annotations

import errno
import json
import re
import sys
from pathlib import Path

import pytest

from skills.commands import run_command
from skills.diagnosis import RULES, TIMED_OUT, Diagnosis, diagnose, diagnose_output
from skills.errors import CommandFailedError, StepError

FIXTURES = Path(__file__).parent / "fixtures" / "command_output"
HEADER = re.compile(r"# argv: (\[.*\])  returncode: (-?\d+|None)  captured: (.*)")

# A concrete value the suggestions must carry, taken from how the failure was provoked.
EXPECTED_IN_SUGGESTIONS = {
    "npm-registry-unreachable": "127.0.0.1:9",
    "npm-registry-dns": "nonexistent.invalid",
    "npm-eacces": "/app/node_modules",
    "npm-peer-conflict": 'react-dom@18.3.1 needs react@"^18.3.1"',
    "npm-package-not-found": "npm search skillworks-no-such-package-xyz-123",
    "engine-too-old": '{"node":">=99"}',
    "tool-missing": "Install vite",
    "git-dubious-ownership": "safe.directory /tmp/capture-git-dubious-ownership-",
    "target-exists": "move dest aside",
    "target-exists--eexist": "move my-app aside",
    "typescript-errors": "TS2322 at bad.ts(1,7)",
    "permission-denied": "ls -ld app",
}


def load(path: Path) -> tuple[list[str], int | None, str]:
    header, _, output = path.read_text().partition("\n")
    found = HEADER.fullmatch(header)
    assert found, f"{path.name}: bad header {header!r}"
    returncode = None if found[2] == "None" else int(found[2])
    return json.loads(found[1]), returncode, output


FIXTURE_FILES = sorted(FIXTURES.glob("*.txt"))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_captured_output_is_classified_as_its_rule(path: Path) -> None:
    argv, returncode, output = load(path)
    diagnosis = diagnose_output(argv, returncode, output)
    assert diagnosis is not None
    assert diagnosis.rule_id == path.stem.split("--")[0]
    assert diagnosis.suggestions and all(s.strip() for s in diagnosis.suggestions)
    assert diagnosis.evidence
    assert not re.search(r"\{\w+\}", " ".join([diagnosis.title, *diagnosis.suggestions]))
    if path.stem in EXPECTED_IN_SUGGESTIONS:
        assert EXPECTED_IN_SUGGESTIONS[path.stem] in " ".join(diagnosis.suggestions)


def test_every_rule_but_the_generic_ones_has_a_captured_output() -> None:
    captured = {path.stem.split("--")[0] for path in FIXTURE_FILES}
    assert {rule.id for rule in RULES} - captured == set()


def test_port_in_use_names_the_port_that_was_taken() -> None:
    argv, returncode, output = load(FIXTURES / "port-in-use.txt")
    port = re.search(r"listen\((\d+)", argv[-1])[1]
    diagnosis = diagnose_output(argv, returncode, output)
    assert diagnosis.title == f"Port {port} is already in use"
    assert f"lsof -i :{port}" in diagnosis.suggestions[0]


def test_command_failed_error_is_diagnosed_from_its_output() -> None:
    argv, returncode, output = load(FIXTURES / "git-identity-missing.txt")
    assert diagnose(CommandFailedError(argv, returncode, output)).rule_id == "git-identity-missing"


def test_cause_of_a_wrapping_step_error_is_diagnosed() -> None:
    argv, returncode, output = load(FIXTURES / "docker-daemon-unreachable.txt")
    try:
        try:
            raise CommandFailedError(argv, returncode, output)
        except CommandFailedError as failure:
            raise StepError("Docker is needed for this skill.") from failure
    except StepError as wrapped:
        assert diagnose(wrapped).rule_id == "docker-daemon-unreachable"


def test_missing_executable_is_tool_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        run_command(["skillworks-no-such-tool", "--version"], tmp_path, timeout=10)
    diagnosis = diagnose(raised.value)
    assert diagnosis.rule_id == "tool-missing"
    assert "Install skillworks-no-such-tool" in diagnosis.suggestions[0]


def test_non_executable_program_is_permission_denied(tmp_path: Path) -> None:
    script = tmp_path / "build.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(PermissionError) as raised:
        run_command([str(script)], tmp_path, timeout=10)
    diagnosis = diagnose(raised.value)
    assert diagnosis.rule_id == "permission-denied"
    assert f"ls -ld {script}" in diagnosis.suggestions[0]


def test_timed_out_command_is_diagnosed_as_timed_out(tmp_path: Path) -> None:
    with pytest.raises(CommandFailedError) as raised:
        run_command([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, timeout=0.5)
    assert raised.value.returncode is None
    assert diagnose(raised.value).rule_id == "timed-out"
    assert diagnose(TimeoutError("step timed out")).rule_id == "timed-out"


def test_enospc_and_eaddrinuse_os_errors_are_diagnosed() -> None:
    assert diagnose(OSError(errno.ENOSPC, "No space left on device")).rule_id == "disk-full"
    assert diagnose(OSError(errno.EADDRINUSE, "Address already in use")).rule_id == "port-in-use"


def test_unrelated_failure_gives_no_diagnosis(tmp_path: Path) -> None:
    with pytest.raises(CommandFailedError) as raised:
        run_command([sys.executable, "-c", "print('3 files checked'); raise SystemExit(3)"], tmp_path, timeout=10)
    assert diagnose(raised.value) is None
    assert diagnose(ValueError("bad value")) is None
    assert diagnose(FileNotFoundError(errno.ENOENT, "No such file or directory", "/workspace/missing.txt")) is None


def test_every_rule_fills_its_templates_without_a_match() -> None:
    for rule in (*RULES, TIMED_OUT):
        assert isinstance(rule.diagnosis({}), Diagnosis)


def test_diagnosis_event_form_is_camel_case() -> None:
    diagnosis = diagnose(TimeoutError())
    assert diagnosis.as_event() == {
        "ruleId": "timed-out", "title": diagnosis.title, "suggestions": diagnosis.suggestions, "evidence": "",
    }
