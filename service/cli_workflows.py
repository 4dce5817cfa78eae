"""``skillworks workflow validate|run|list|show FILE_OR_ID``: clients of the workflow API.

``FILE_OR_ID`` is a workflow spec file (YAML or JSON, sent as the request's ``spec``) when
such a file exists, else the id of a built-in or saved workflow. Inputs are ``-p name=value``,
typed by the workflow's parameters as a skill's are. Same ``--json`` and exit codes as every
command: ``validate`` exits 2 when the workflow has problems (all of them are listed), ``run``
exits 2 without starting anything for the same reason, 1 when the run fails or is cancelled.

Examples:
    ```
    skillworks workflow list
    skillworks workflow show full-stack-starter
    skillworks workflow validate my-workflow.yaml -p name=shop
    skillworks workflow run full-stack-starter -p name=shop -p installDependencies=no --level expert
    ```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
import yaml

from service import cli
from service.cli_follow import follow_run
from service.cli_output import CliOutput, CommandFailed, ExitCode, JsonOption, exit_on_errors, write_json_line
from service.cli_parameters import parse_parameter_assignments
from service.cli_workflow_render import render_problems, render_workflow_plan, render_workflow_spec, workflows_table
from service.facade_client import DEFAULT_API_URL, FacadeClient

workflow = typer.Typer(help="Validate, run, list and show workflows: DAGs of skills run as Prefect subflows.", no_args_is_help=True)

TargetArgument = Annotated[str, typer.Argument(metavar="FILE_OR_ID", help="A workflow spec file (YAML or JSON), or a workflow's id.")]
InputsOption = Annotated[list[str] | None, typer.Option("--param", "-p", help="A workflow input as name=value (repeatable).")]
LevelOption = Annotated[str, typer.Option(help="beginner, intermediate or expert (applies to every node).")]
PersonaOption = Annotated[str, typer.Option(help="ai-engineer, architect, security, devops or full-stack.")]


class WorkflowTarget(NamedTuple):
    """What ``FILE_OR_ID`` names: the request's ``spec`` or ``workflowId``, and the spec when known."""

    reference: dict[str, Any]
    spec: dict[str, Any]
    origin: str


@workflow.command("list")
def list_workflows(api: cli.ApiOption = DEFAULT_API_URL, json_output: JsonOption = False) -> None:
    """The built-in and saved workflows."""
    output = CliOutput(json_output)
    with FacadeClient(api, cli._api_token()) as client, exit_on_errors(output):
        listing = client.workflows()
    output.result(listing, lambda shown: shown.print(workflows_table(listing)))


@workflow.command("show")
def show_workflow(target: TargetArgument, api: cli.ApiOption = DEFAULT_API_URL, json_output: JsonOption = False) -> None:
    """A workflow's inputs and nodes (with their dependencies, approvals, conditions, fan-outs)."""
    output = CliOutput(json_output)
    with FacadeClient(api, cli._api_token()) as client, exit_on_errors(output):
        chosen = resolve_target(client, target)
    output.result(chosen.spec, lambda shown: render_workflow_spec(shown, chosen.spec, chosen.origin))


@workflow.command("validate")
def validate_workflow(
    target: TargetArgument,
    param: InputsOption = None,
    level: LevelOption = "intermediate",
    persona: PersonaOption = "full-stack",
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Check a workflow with its inputs — every problem at once — and show its plan; changes nothing (exit 2 if invalid)."""
    output = CliOutput(json_output)
    with FacadeClient(api, cli._api_token()) as client, exit_on_errors(output):
        verdict = client.validate_workflow(_request(client, target, param, level, persona))
    code = ExitCode.OK if verdict.get("valid") else ExitCode.INVALID
    if output.as_json:
        write_json_line(verdict)
    elif verdict.get("valid"):
        render_workflow_plan(cli.console, verdict.get("plan") or {})
    else:
        render_problems(cli.errors, verdict.get("problems") or [])
    raise typer.Exit(code)


@workflow.command("run")
def run_workflow(
    target: TargetArgument,
    param: InputsOption = None,
    level: LevelOption = "intermediate",
    persona: PersonaOption = "full-stack",
    yes: cli.YesOption = False,
    api: cli.ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Run a workflow and follow its nodes; approvals and pauses are asked (or --yes). Ctrl-C cancels the run,
    which compensates the nodes that ran.

    With --json: the run's events as JSON Lines.
    """
    output = CliOutput(json_output)
    with FacadeClient(api, cli._api_token()) as client, exit_on_errors(output):
        events = client.execute_workflow(_request(client, target, param, level, persona))
        code = follow_run(client, events, cli.run_view(output, yes), output)
    raise typer.Exit(code)


def resolve_target(client: FacadeClient, target: str) -> WorkflowTarget:
    """A spec file's contents, else the saved or built-in workflow of that id (exit 2 if neither)."""
    path = Path(target).expanduser()
    if path.is_file():
        spec = _read_spec(path)
        return WorkflowTarget({"spec": spec}, spec, str(path))
    if path.suffix in (".yaml", ".yml", ".json") or "/" in target:
        raise CommandFailed(ExitCode.INVALID, f"No workflow spec file at {target}.", "file_not_found",
                            suggestions=["Give the path of a YAML or JSON workflow spec, or a workflow id (`skillworks workflow list`)."])
    saved = client.workflow(target)
    return WorkflowTarget({"workflowId": target}, saved.get("spec") or {}, str(saved.get("source") or "saved"))


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CommandFailed(ExitCode.INVALID, f"Cannot read the workflow spec {path}: {exc}", "invalid_spec") from None
    if not isinstance(spec, dict):
        raise CommandFailed(ExitCode.INVALID, f"{path} is not a workflow spec: its top level must be a mapping (id, name, nodes, ...).",
                            "invalid_spec")
    return spec


def _request(client: FacadeClient, target: str, assignments: list[str] | None, level: str, persona: str) -> dict[str, Any]:
    chosen = resolve_target(client, target)
    inputs = parse_parameter_assignments(assignments or [], {"parameters": chosen.spec.get("parameters") or {}})
    return {**chosen.reference, "inputs": inputs, "level": level, "persona": persona}
