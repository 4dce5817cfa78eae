"""Third-party code runs only in the sandbox, and every way out it tries fails with a clear error.

The hostile fixture skill (``tests/fixtures/thirdparty/hostile``) is served as a dev folder, so
its steps run the way any installed or dev skill's do: ``step_functions`` hands out sandboxed
stand-ins, the step runs under bubblewrap, and its workspace calls reach this process's
confined, journaled workspace. Each attack must fail with an error that says what happened,
and leave everything outside the target folder as it was.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from skills.catalog import CatalogSources, load_catalog, step_functions
from skills.definition import SkillDefinition
from skills.planning import plan_skill
from skills.sandbox.steps import SandboxedStep
from tests.conftest import TEST_SECRET, THIRD_PARTY_SKILLS
from tests.skill_runner import execute_steps
from tests.tree import tree_fingerprint

HOSTILE = THIRD_PARTY_SKILLS / "hostile"


@pytest.fixture(scope="module")
def hostile() -> SkillDefinition:
    return load_catalog(CatalogSources(dev_folders=(HOSTILE,))).get("hostile-sample")


@pytest.fixture
def sandbox_limits() -> dict[str, int]:
    """Small limits, so the memory and fork attacks stop early on a shared machine."""
    return {"sandbox_memory_mb": 192, "sandbox_processes": 48}


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port on the host that accepts connections: a sandboxed skill must not reach it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def attack(skill: SkillDefinition, root: Path, kind: str, argument: str = "", settings: dict | None = None) -> str:
    """Run the attack for real; the error message it failed with (it must fail)."""
    parameters = {"projectName": f"attack-{kind}", "attack": kind, "argument": argument}
    with pytest.raises(Exception) as failure:
        execute_steps(skill, parameters, "full-stack", root, execution_id=f"attack-{kind}", settings=settings)
    return str(failure.value)


def outside_target(root: Path, kind: str) -> dict[str, str]:
    return {path: value for path, value in tree_fingerprint(root).items() if not path.startswith(f"attack-{kind}")}


def test_a_dev_skill_is_sandboxed_and_never_imported_here(hostile: SkillDefinition, tmp_path: Path) -> None:
    functions = step_functions(hostile)

    assert hostile.origin is not None and hostile.origin.source == "dev" and hostile.sandboxed
    assert all(isinstance(function, SandboxedStep) for function in functions.values())
    checked, plan = plan_skill(hostile, {"projectName": "dry"}, "expert", "full-stack", tmp_path)
    assert checked.ok and plan is not None, checked.errors
    assert plan.files == ["dry/marker.txt", "dry/made-by-command.txt"]
    assert plan.commands == ["sh -c echo from-a-command > made-by-command.txt"]
    assert list(tmp_path.iterdir()) == []  # the dry run, sandboxed, changed nothing
    assert not [name for name in sys.modules if name.startswith("skillworks_skill_hostile")]


def test_a_sandboxed_run_writes_through_the_workspace_and_its_commands_write_only_the_target(
    hostile: SkillDefinition, tmp_path: Path
) -> None:
    execution = execute_steps(hostile, {"projectName": "fine"}, "full-stack", tmp_path)

    assert (tmp_path / "fine" / "marker.txt").read_text() == "written through the workspace\n"
    assert (tmp_path / "fine" / "made-by-command.txt").read_text() == "from-a-command\n"
    before_undo = tree_fingerprint(tmp_path)
    execution.journal.undo()
    assert tree_fingerprint(tmp_path) == {} != before_undo


@pytest.mark.parametrize(
    ("kind", "argument", "expected"),
    [
        ("write-outside", "", "'..' is not allowed"),
        ("write-absolute", "/etc/passwd", "absolute paths are not allowed"),
        ("read-ssh", "/root/.ssh/id_rsa", "No such file or directory"),
        ("template", "", "SecurityError: access to attribute '__class__'"),
        ("symlink-escape", "/etc", "'attack-symlink-escape/link' is a symlink"),
    ],
)
def test_a_sandboxed_step_cannot_leave_its_target(
    hostile: SkillDefinition, tmp_path: Path, kind: str, argument: str, expected: str
) -> None:
    before = outside_target(tmp_path, kind)

    assert expected in attack(hostile, tmp_path, kind, argument)
    assert outside_target(tmp_path, kind) == before


def test_a_sandboxed_step_cannot_write_host_files_nor_its_own_folder(hostile: SkillDefinition, tmp_path: Path) -> None:
    neighbour = tmp_path / "other-project" / "notes.txt"
    neighbour.parent.mkdir()
    neighbour.write_text("mine\n")
    own_steps = HOSTILE / "steps.py"
    own_bytes = own_steps.read_bytes()

    assert "No such file or directory" in attack(hostile, tmp_path, "write-host-path", str(neighbour))
    assert "Read-only file system" in attack(hostile, tmp_path, "write-own-folder", str(own_steps))
    assert neighbour.read_text() == "mine\n"
    assert own_steps.read_bytes() == own_bytes


def test_a_sandboxed_step_cannot_read_this_process_environment(
    hostile: SkillDefinition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLWORKS_TEST_SECRET", TEST_SECRET)

    error = attack(hostile, tmp_path, "read-secret")

    assert "KeyError: 'SKILLWORKS_TEST_SECRET'" in error and TEST_SECRET not in error


def test_a_sandboxed_step_has_no_network_unless_declared_and_allowed(
    hostile: SkillDefinition, tmp_path: Path, listening_port: int
) -> None:
    error = attack(hostile, tmp_path, "socket", str(listening_port))
    assert "network access refused: the skill 'hostile-sample' does not declare `permissions: {network: true}`" in error
    # A command goes around Python's socket module: the sandbox has no network to reach the host with.
    assert "ECONNREFUSED" in attack(hostile, tmp_path, "socket-command", str(listening_port))


def test_a_skill_that_declares_the_network_gets_it_only_when_the_execution_allows_it(
    hostile: SkillDefinition, tmp_path: Path, listening_port: int
) -> None:
    online = hostile.model_copy(update={"permissions": hostile.permissions.model_copy(update={"network": True})})

    def connect(project: str, network_allowed: bool) -> None:
        parameters = {"projectName": project, "attack": "socket", "argument": str(listening_port)}
        execute_steps(online, parameters, "full-stack", tmp_path, execution_id=project, network_allowed=network_allowed)

    with pytest.raises(Exception, match="asks for the network, but it was not allowed for this execution"):
        connect("refused", network_allowed=False)
    # Allowed (`skillworks run --allow-network`, allowNetwork in the API): the connection is made.
    connect("allowed", network_allowed=True)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fork-bomb", "The sandbox stopped the step: it tried to run more than 48 processes at once"),
        ("sleep", "The sandbox stopped the step: it ran past its time limit of 3 s"),
        ("memory", "The sandbox stopped the step: it used more than 192 MB of memory"),
    ],
)
def test_a_sandboxed_step_is_held_to_its_limits(
    hostile: SkillDefinition, tmp_path: Path, sandbox_limits: dict[str, int], kind: str, expected: str
) -> None:
    before = outside_target(tmp_path, kind)

    assert expected in attack(hostile, tmp_path, kind, settings=sandbox_limits)
    assert outside_target(tmp_path, kind) == before
