"""The ``skillworks`` command: ``up`` starts everything; ``run``, ``history``, ``retry`` and
``rollback`` are clients of its API.

Exit codes of ``run``: 0 completed, 1 failed or cancelled, 2 invalid parameters (or an
unknown skill); nothing runs in the last case.

Examples:
    ```
    skillworks up --workspace ~/projects
    skillworks run react-setup -p projectName=shop -p testing=no --dry-run
    skillworks run react-setup -p projectName=shop --level expert --persona security
    skillworks history --skill react-setup --status failed
    skillworks retry 0b6c...          # a failed execution, from its failed step
    skillworks rollback rollback-0b6c... --force
    ```
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from service.cli_parameters import parse_parameter_assignments
from service.cli_render import (
    ExecutionProgress,
    history_table,
    render_complete,
    render_failure,
    render_field_errors,
    render_plan,
    render_rollback,
    render_suggestions,
    render_warnings,
)
from service.facade_client import DEFAULT_API_URL, FacadeClient, FacadeError
from skills.errors import InvalidParametersError, UserMessageError

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

app = typer.Typer(
    name="skillworks",
    help="Run multi-step developer skills as Prefect flows: dry runs, live progress, history, rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

ApiOption = Annotated[str, typer.Option("--api", help="Address of the skillworks API (what `skillworks up` serves).")]


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address the API binds; non-loopback needs SKILLWORKS_API_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API and dashboard.")] = 5173,
    prefect_port: Annotated[int, typer.Option(help="Port of the Prefect server started when PREFECT_API_URL is unset.")] = 4200,
    workspace: Annotated[Path | None, typer.Option(help="Workspace root for this run (overrides the SkillWorkspace block).")] = None,
) -> None:
    """Start a Prefect server (unless PREFECT_API_URL names one), serve every skill, and the API; Ctrl-C stops all."""
    from service.launcher import LaunchFailed, LaunchRefused, SkillworksStack

    try:
        SkillworksStack(host=host, port=port, prefect_port=prefect_port, workspace=workspace, console=console).run()
    except LaunchRefused as refused:
        _print_user_error(refused)
        raise typer.Exit(EXIT_INVALID) from None
    except LaunchFailed as failed:
        _print_user_error(failed)
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def run(
    skill: Annotated[str, typer.Argument(help="Skill id, e.g. react-setup.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="A parameter as name=value (repeatable).")] = None,
    level: Annotated[str, typer.Option(help="beginner, intermediate or expert.")] = "intermediate",
    persona: Annotated[str, typer.Option(help="ai-engineer, architect, security, devops or full-stack.")] = "full-stack",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Answer every confirmation with yes.")] = False,
    api: ApiOption = DEFAULT_API_URL,
) -> None:
    """Run a skill (or dry-run it) through the API and follow its progress."""
    with FacadeClient(api, _api_token()) as client, _exit_codes_for_errors():
        parameters = parse_parameter_assignments(param or [], client.skill(skill))
        request = {"skillId": skill, "parameters": parameters, "level": level, "persona": persona}
        code = _dry_run(client, request) if dry_run else _execute(client, request, yes)
    raise typer.Exit(code)


@app.command()
def history(
    skill: Annotated[str | None, typer.Option("--skill", help="Only this skill's executions.")] = None,
    status: Annotated[str | None, typer.Option(help="Only executions with this status (completed, failed, ...).")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many of the newest.")] = 0,
    api: ApiOption = DEFAULT_API_URL,
) -> None:
    """List past executions, newest first."""
    with FacadeClient(api, _api_token()) as client, _exit_codes_for_errors():
        listing = client.history(skillId=skill, status=status, limit=limit, offset=offset)
    console.print(history_table(listing, wide=console.width >= 130))


@app.command()
def rollback(
    token: Annotated[str, typer.Argument(help="The rollback token of an execution: rollback-<execution id>.")],
    force: Annotated[bool, typer.Option("--force", help="Also undo files edited since the execution.")] = False,
    api: ApiOption = DEFAULT_API_URL,
) -> None:
    """Undo everything an execution changed; files edited since are kept unless --force."""
    with FacadeClient(api, _api_token()) as client, _exit_codes_for_errors():
        report = client.rollback(token, force)
    render_rollback(console, report)
    raise typer.Exit(EXIT_FAILED if report["conflicts"] else EXIT_OK)


@app.command()
def retry(
    execution_id: Annotated[str, typer.Argument(help="Id of a failed execution.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Answer every confirmation with yes.")] = False,
    api: ApiOption = DEFAULT_API_URL,
) -> None:
    """Run a failed execution again from the step that failed, reusing the steps that completed."""
    with FacadeClient(api, _api_token()) as client, _exit_codes_for_errors():
        code = _follow(client, client.retry(execution_id), yes)
    raise typer.Exit(code)


advisories = typer.Typer(help="The local OSV advisory database the security audit reads offline.", no_args_is_help=True)
app.add_typer(advisories, name="advisories")


@advisories.command("update")
def update_advisories() -> None:
    """Download OSV's npm and PyPI advisories into the skillworks home (or SKILLWORKS_ADVISORY_DB)."""
    from blocks.settings import advisory_database_path
    from skills.audit.advisories import advisories_update_main

    raise typer.Exit(advisories_update_main(advisory_database_path()))


def _dry_run(client: FacadeClient, request: dict[str, Any]) -> int:
    validation = client.validate(request)
    if not validation.get("valid"):
        render_field_errors(errors, validation.get("errors", []))
        render_warnings(errors, validation.get("warnings", []))
        return EXIT_INVALID
    render_plan(console, validation)
    return EXIT_OK


def _execute(client: FacadeClient, request: dict[str, Any], assume_yes: bool) -> int:
    return _follow(client, client.execute(request), assume_yes)


def _follow(client: FacadeClient, events: Iterator[tuple[int, dict[str, Any]]], assume_yes: bool) -> int:
    """Show a run's events with a progress bar, answering pauses; the exit code of its end."""
    final: dict[str, Any] = {}
    with ExecutionProgress(console, lambda event: assume_yes or _ask_to_proceed(event)) as progress:
        try:
            for _, event in events:
                answer = progress.show(event)
                if answer is not None:
                    client.confirm(str(progress.execution_id), answer)
                final = event
        except KeyboardInterrupt:
            if progress.execution_id is None:
                raise
            client.cancel(progress.execution_id)
            errors.print(f"Cancelling execution {progress.execution_id} (what it changed is undone).")
            return EXIT_FAILED
    if final.get("type") == "complete":
        render_complete(console, final)
        return EXIT_OK
    render_failure(errors, final)
    return EXIT_FAILED


def _ask_to_proceed(event: dict[str, Any]) -> bool:
    render_warnings(console, event.get("warnings") or [])
    try:
        answer = console.input(f"Run [bold]{event.get('stepName')}[/] and go on? [Y/n] ")
    except EOFError:
        console.print("no answer (input closed): stopping")
        return False
    return answer.strip().lower() in ("", "y", "yes")


@contextmanager
def _exit_codes_for_errors() -> Iterator[None]:
    """Show an error a command hit and exit with its code: 2 for invalid input, else 1."""
    try:
        yield
    except InvalidParametersError as invalid:
        render_field_errors(errors, [vars(issue) for issue in invalid.issues])
        raise typer.Exit(EXIT_INVALID) from None
    except FacadeError as failure:
        raise typer.Exit(_report_facade_error(failure)) from None
    except UserMessageError as failure:
        _print_user_error(failure)
        raise typer.Exit(EXIT_FAILED) from None


def _report_facade_error(failure: FacadeError) -> int:
    if failure.field_errors:
        render_field_errors(errors, failure.field_errors)
        if isinstance(failure.details, dict):
            render_warnings(errors, failure.details.get("warnings") or [])
        return EXIT_INVALID
    _print_user_error(failure)
    return EXIT_INVALID if failure.status in (404, 422) else EXIT_FAILED


def _print_user_error(failure: UserMessageError) -> None:
    errors.print(f"[bold red]Error:[/] {escape(failure.message)}")
    render_suggestions(errors, failure.suggestions)


def _api_token() -> str | None:
    # Imported here: reading settings loads Prefect, which `--help` does not need.
    from blocks.settings import environment_variable

    return environment_variable("SKILLWORKS_API_TOKEN")


def main() -> None:
    """Entry point of the ``skillworks`` console script."""
    app()
