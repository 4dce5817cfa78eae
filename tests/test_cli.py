"""The ``skillworks`` command: typed ``-p`` values, ``up``'s bind guard, and ``run``/``history`` against the facade."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from service.cli_parameters import convert_value, parse_parameter_assignments
from service.schemas import SkillMetadata
from skills.catalog import load_builtin_catalog
from skills.errors import InvalidParametersError

SKILLWORKS = Path(sys.executable).parent / "skillworks"


def metadata(skill_id: str) -> dict[str, Any]:
    """A skill's metadata exactly as ``GET /api/skill-metadata?skill=ID`` serialises it."""
    return SkillMetadata.of(load_builtin_catalog().get(skill_id)).model_dump(mode="json", by_alias=True)


def skillworks(*arguments: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    # A wide terminal so rich does not wrap the ids and paths the tests look for.
    environment = {**os.environ, "COLUMNS": "240", **(env or {})}
    return subprocess.run(
        [str(SKILLWORKS), *arguments], capture_output=True, text=True, timeout=timeout, env=environment, stdin=subprocess.DEVNULL
    )


def test_parameters_are_converted_to_the_skills_types() -> None:
    values = parse_parameter_assignments(
        ["projectName=shop", "useTypescript=no", "testing=TRUE", "styling=CSS Modules", "installDependencies=yes"],
        metadata("react-setup"),
    )

    assert values == {
        "projectName": "shop", "useTypescript": False, "testing": True, "styling": "CSS Modules", "installDependencies": True,
    }


def test_a_value_keeps_everything_after_the_first_equals_sign() -> None:
    assert parse_parameter_assignments(["projectName=a=b"], metadata("react-setup")) == {"projectName": "a=b"}


def test_a_list_of_objects_is_read_as_json() -> None:
    values = parse_parameter_assignments(['resources=[{"name": "book", "fields": {"title": "string"}}]'], metadata("rest-api"))

    assert values == {"resources": [{"name": "book", "fields": {"title": "string"}}]}


def test_a_list_of_objects_refuses_comma_separated_text() -> None:
    with pytest.raises(InvalidParametersError) as refused:
        parse_parameter_assignments(["resources=book,author"], metadata("rest-api"))

    assert refused.value.issues[0].field == "resources"


def test_a_list_of_strings_is_comma_separated_or_json() -> None:
    spec = {"type": "list"}
    assert convert_value("a, b,c", spec) == ["a", "b", "c"]
    assert convert_value('["a,b", "c"]', spec) == ["a,b", "c"]


def test_numbers_become_int_or_float() -> None:
    spec = {"type": "number"}
    assert convert_value("3", spec) == 3 and isinstance(convert_value("3", spec), int)
    assert convert_value("2.5", spec) == 2.5
    with pytest.raises(ValueError, match="not a number"):
        convert_value("three", spec)


def test_unconvertible_values_are_reported_per_field() -> None:
    with pytest.raises(InvalidParametersError) as refused:
        parse_parameter_assignments(["testing=maybe", "projectName"], metadata("react-setup"))

    assert [(issue.field, issue.reason) for issue in refused.value.issues] == [
        ("testing", "'maybe' is not a boolean"),
        ("projectName", "is not name=value"),
    ]


def test_unknown_parameters_are_passed_on_for_the_api_to_name() -> None:
    assert parse_parameter_assignments(["colour=blue"], metadata("react-setup")) == {"colour": "blue"}


def test_up_refuses_a_non_loopback_host_without_a_token() -> None:
    result = skillworks("up", "--host", "0.0.0.0", "--port", "1", env={"SKILLWORKS_API_TOKEN": ""}, timeout=60)

    assert result.returncode == 2
    assert "Refusing to bind the API to 0.0.0.0" in result.stderr
    assert "SKILLWORKS_API_TOKEN" in result.stderr


def test_up_refuses_a_port_already_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = skillworks("up", "--port", str(port), timeout=60)

    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr


def test_run_executes_a_skill_through_the_api(facade: str, workspace: Path) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"

    result = skillworks(
        "run", "react-setup", "-p", f"projectName={name}", "-p", "installDependencies=false", "--level", "expert", "--api", facade
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (workspace / name / "package.json").is_file()
    assert "Completed" in result.stdout
    assert "rollback-" in result.stdout
    history = skillworks("history", "--skill", "react-setup", "--status", "completed", "--api", facade)
    assert history.returncode == 0, history.stderr
    assert "react-setup" in history.stdout and "completed" in history.stdout


def test_dry_run_prints_the_plan_and_changes_nothing(facade: str, workspace: Path) -> None:
    name = f"cli-dry-{uuid.uuid4().hex[:8]}"

    result = skillworks("run", "react-setup", "-p", f"projectName={name}", "-p", "testing=no", "--dry-run", "--api", facade)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Setup Testing Framework" in result.stdout and "skip" in result.stdout
    assert f"{name}/package.json" in result.stdout
    assert not (workspace / name).exists()


def test_run_with_invalid_parameters_exits_2_and_names_the_field(facade: str, workspace: Path) -> None:
    result = skillworks("run", "react-setup", "-p", "projectName=Not Valid", "--level", "expert", "--api", facade)

    assert result.returncode == 2
    assert "projectName" in result.stderr
    assert not (workspace / "Not Valid").exists()


def test_run_of_an_unknown_skill_exits_2(facade: str) -> None:
    result = skillworks("run", "no-such-skill", "--api", facade)

    assert result.returncode == 2
    assert "no-such-skill" in result.stderr


def test_rollback_undoes_a_run_and_says_so_the_second_time(facade: str, workspace: Path) -> None:
    name = f"cli-undo-{uuid.uuid4().hex[:8]}"
    run = skillworks("run", "react-setup", "-p", f"projectName={name}", "-p", "installDependencies=false", "--level", "expert", "--api", facade)
    token = re.search(r"rollback-[0-9a-f-]{36}", run.stdout).group(0)

    first = skillworks("rollback", token, "--api", facade)
    second = skillworks("rollback", token, "--api", facade)

    assert first.returncode == 0, first.stdout + first.stderr
    assert "Rolled back" in first.stdout
    assert not (workspace / name).exists()
    assert "already rolled back" in second.stdout
    assert skillworks("rollback", "nonsense", "--api", facade).returncode == 2
