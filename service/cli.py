"""The ``skillworks`` command: ``up`` starts everything; the other commands are clients of its API.

Every command takes ``--json`` and exits 0 (success), 1 (the run or operation failed), 2
(invalid input: nothing ran) or 130 (interrupted); ``service/cli_output.py`` states the
contract and ``service/cli_follow.py`` what Ctrl-C does to a run being followed.

Examples:
    ```
    skillworks up --workspace ~/projects
    skillworks skills
    skillworks show react-setup
    skillworks run react-setup -p projectName=shop -p testing=no --dry-run
    skillworks run react-setup -p projectName=shop --level expert --persona security --json
    skillworks history --skill react-setup --status failed
    skillworks stats react-setup --days 7
    skillworks cancel 0b6c... --wait
    skillworks retry 0b6c...          # a failed execution, from its failed step
    skillworks rollback rollback-0b6c... --force
    ```
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from service.cli_follow import EventLines, RunView, follow_run, watch_run
from service.cli_output import (
    CliOutput,
    CommandFailed,
    ExitCode,
    JsonOption,
    console,
    errors,
    exit_on_errors,
    write_json_line,
)
from service.cli_parameters import parse_parameter_assignments
from service.cli_progress import ExecutionProgress, TimeRemaining
from service.cli_render import (
    history_table,
    render_field_errors,
    render_plan,
    render_rollback,
    render_skill,
    render_warnings,
    skills_table,
)
from service.cli_stats import stats_tables
from service.facade_client import DEFAULT_API_URL, FacadeClient

app = typer.Typer(
    name="skillworks",
    help="Run multi-step developer skills as Prefect flows: dry runs, live progress, history, rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ApiOption = Annotated[str, typer.Option("--api", help="Address of the skillworks API (what `skillworks up` serves).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Answer every confirmation with yes.")]


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address the API binds; non-loopback needs SKILLWORKS_API_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API and dashboard.")] = 5173,
    prefect_port: Annotated[int, typer.Option(help="Port of the Prefect server started when PREFECT_API_URL is unset.")] = 4200,
    workspace: Annotated[Path | None, typer.Option(help="Workspace root for this run (overrides the SkillWorkspace block).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Start a Prefect server (unless PREFECT_API_URL names one), serve every skill, and the API; Ctrl-C stops all.

    With --json, one line {status: "up", dashboard, api, prefectUi, workspace} on stdout once
    everything answers; the servers' logs go to stderr.
    """
    from service.launcher import LaunchRefused, SkillworksStack

    output = CliOutput(json_output)
    with exit_on_errors(output):
        try:
            stack = SkillworksStack(
                host=host, port=port, prefect_port=prefect_port, workspace=workspace,
                console=errors if json_output else console, ready=write_json_line if json_output else None,
            )
        except LaunchRefused as refused:
            raise CommandFailed(ExitCode.INVALID, refused.message, "launch_refused", None, refused.suggestions) from None
        stack.run()


@app.command()
def skills(api: ApiOption = DEFAULT_API_URL, json_output: JsonOption = False) -> None:
    """List the skills this API can run: id, name, category, version and estimated time."""
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        catalog = client.skills()
    output.result(catalog, lambda shown: shown.print(skills_table(catalog)))


@app.command()
def show(
    skill: Annotated[str, typer.Argument(help="Skill id, e.g. rest-api.")],
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """A skill's description, parameters (types, defaults, validation), steps, outputs and requirements."""
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        metadata = client.skill(skill)
    output.result(metadata, lambda shown: render_skill(shown, metadata))


@app.command()
def run(
    skill: Annotated[str, typer.Argument(help="Skill id, e.g. react-setup.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="A parameter as name=value (repeatable).")] = None,
    level: Annotated[str, typer.Option(help="beginner, intermediate or expert.")] = "intermediate",
    persona: Annotated[str, typer.Option(help="ai-engineer, architect, security, devops or full-stack.")] = "full-stack",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")] = False,
    allow_network: Annotated[bool, typer.Option(
        "--allow-network", help="Let a sandboxed skill that declares `network: true` reach the network, for this run only.",
    )] = False,
    yes: YesOption = False,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Run a skill (or dry-run it) through the API and follow its progress; Ctrl-C cancels the run.

    With --json: the run's events as JSON Lines (the dry run: the verdict of /api/validate-skill).
    """
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        metadata = client.skill(skill)
        parameters = parse_parameter_assignments(param or [], metadata)
        request = {
            "skillId": skill, "parameters": parameters, "level": level, "persona": persona, "allowNetwork": allow_network,
        }
        if dry_run:
            code = _dry_run(client, request, output)
        else:
            remaining = TimeRemaining((metadata.get("measuredTime") or {}).get("stepP50Seconds") or {})
            code = follow_run(client, client.execute(request), run_view(output, yes, remaining), output)
    raise typer.Exit(code)


@app.command()
def cancel(
    execution_id: Annotated[str, typer.Argument(help="Id of a running or paused execution (skill or workflow).")],
    wait: Annotated[bool, typer.Option("--wait", help="Follow the run until it has ended and its changes are undone.")] = False,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Cancel an execution; what it changed is undone. Exit 1 if it had already ended.

    With --wait the exit code is 0 only once the run ended cancelled; with --json and --wait,
    stdout carries the run's events (JSON Lines) instead of the cancellation's answer.
    """
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        answer = client.cancel(execution_id)
        if not wait:
            output.result(answer, lambda shown: shown.print(
                f"Cancelling execution {answer['executionId']} ({answer['state']}); what it changed is undone."))
            raise typer.Exit(ExitCode.OK)
        output.note(f"Cancelling execution {answer['executionId']}; waiting until it has ended.")
        final = watch_run(client, answer["executionId"], run_view(output, False))
    if final is None:
        raise typer.Exit(ExitCode.INTERRUPTED)
    raise typer.Exit(ExitCode.OK if final.get("type") == "cancelled" else ExitCode.FAILED)


@app.command()
def history(
    skill: Annotated[str | None, typer.Option("--skill", help="Only this skill's executions.")] = None,
    status: Annotated[str | None, typer.Option(help="Only executions with this status (completed, failed, ...).")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    offset: Annotated[int, typer.Option(help="Skip this many of the newest.")] = 0,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """List past executions, newest first."""
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        listing = client.history(skillId=skill, status=status, limit=limit, offset=offset)
    output.result(listing, lambda shown: shown.print(history_table(listing, wide=shown.width >= 130)))


@app.command()
def stats(
    skill: Annotated[str | None, typer.Argument(help="A skill id: its steps and failures too.")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days back.")] = 30,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Success rates, p50/p95 durations and frequent failures, from the runs Prefect recorded."""
    output = CliOutput(json_output)
    since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        analytics = client.analytics(skill=skill, since=since)

    def render(shown: Console) -> None:
        if not analytics["skills"]:
            shown.print(f"No runs{f' of {skill}' if skill else ''} in the last {days} days.")
        for table in stats_tables(analytics, skill):
            shown.print(table)

    output.result(analytics, render)


@app.command()
def rollback(
    token: Annotated[str, typer.Argument(help="The rollback token of an execution: rollback-<execution id>.")],
    force: Annotated[bool, typer.Option("--force", help="Also undo files edited since the execution.")] = False,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Undo everything an execution changed; files edited since are kept unless --force (exit 1 if any were)."""
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        report = client.rollback(token, force)
    output.result(report, lambda shown: render_rollback(shown, report))
    raise typer.Exit(ExitCode.FAILED if report["conflicts"] else ExitCode.OK)


@app.command()
def retry(
    execution_id: Annotated[str, typer.Argument(help="Id of a failed execution.")],
    yes: YesOption = False,
    api: ApiOption = DEFAULT_API_URL,
    json_output: JsonOption = False,
) -> None:
    """Run a failed execution again from the step that failed, reusing the steps that completed."""
    output = CliOutput(json_output)
    with FacadeClient(api, _api_token()) as client, exit_on_errors(output):
        code = follow_run(client, client.retry(execution_id), run_view(output, yes), output)
    raise typer.Exit(code)


advisories = typer.Typer(help="The local OSV advisory database the security audit reads offline.", no_args_is_help=True)
app.add_typer(advisories, name="advisories")


@advisories.command("update")
def update_advisories(json_output: JsonOption = False) -> None:
    """Download OSV's npm and PyPI advisories into the skillworks home (or SKILLWORKS_ADVISORY_DB)."""
    from blocks.settings import advisory_database_path
    from skills.audit.advisory_import import ECOSYSTEMS, update_advisory_database

    output = CliOutput(json_output)
    destination = advisory_database_path()
    output.note(f"Downloading OSV advisories for {', '.join(ECOSYSTEMS)} into {destination} ...")
    with exit_on_errors(output):
        counts = update_advisory_database(destination)
    _advisory_counts(output, "stored", destination, counts)


@advisories.command("import")
def import_advisories(
    file: Annotated[Path, typer.Argument(exists=True, help="An OSV export: an ecosystem's all.zip, or a folder of OSV records")],
    json_output: JsonOption = False,
) -> None:
    """Import an OSV export (npm and PyPI records) into the local advisory database, for machines offline."""
    from blocks.settings import advisory_database_path
    from skills.audit.advisory_import import import_advisories as import_export

    output = CliOutput(json_output)
    destination = advisory_database_path()
    output.note(f"Importing OSV advisories from {file} into {destination} ...")
    with exit_on_errors(output):
        counts = import_export(file, destination)
    _advisory_counts(output, "imported", destination, counts)


def _advisory_counts(output: CliOutput, action: str, destination: Path, counts: dict[str, int]) -> None:
    def render(shown: Console) -> None:
        for ecosystem, count in counts.items():
            shown.print(f"{ecosystem}: {count} advisories {action}")

    output.result({"database": str(destination), action: dict(counts)}, render)


def run_view(output: CliOutput, assume_yes: bool, remaining: TimeRemaining | None = None) -> RunView:
    """How a followed run is shown: JSON Lines, or a progress bar (with the time ``remaining``, when
    measured); pauses are answered by ``--yes`` or a prompt."""
    prompt = errors if output.as_json else console

    def confirm(event: dict[str, Any]) -> bool:
        return assume_yes or _ask_to_proceed(prompt, event)

    return EventLines(confirm) if output.as_json else ExecutionProgress(console, confirm, errors, remaining)


def _dry_run(client: FacadeClient, request: dict[str, Any], output: CliOutput) -> ExitCode:
    validation = client.validate(request)
    code = ExitCode.OK if validation.get("valid") else ExitCode.INVALID
    if output.as_json:
        write_json_line(validation)
    elif code is ExitCode.OK:
        render_plan(console, validation)
    else:
        render_field_errors(errors, validation.get("errors", []))
        render_warnings(errors, validation.get("warnings", []))
    return code


def _ask_to_proceed(prompt: Console, event: dict[str, Any]) -> bool:
    render_warnings(prompt, event.get("warnings") or [])
    if event.get("nodeId") and event.get("stepIndex") is None:  # an approval node: the workflow itself waits
        question = f"Approve node [bold]{escape(str(event['nodeId']))}[/] and go on?"
    else:
        node = f" of node {event['nodeId']}" if event.get("nodeId") else ""
        question = f"Run [bold]{escape(str(event.get('stepName')))}[/]{escape(node)} and go on?"
    try:
        answer = prompt.input(f"{question} [Y/n] ")
    except EOFError:
        prompt.print("no answer (input closed): stopping")
        return False
    return answer.strip().lower() in ("", "y", "yes")


def _api_token() -> str | None:
    # Imported here: reading settings loads Prefect, which `--help` does not need.
    from blocks.settings import environment_variable

    return environment_variable("SKILLWORKS_API_TOKEN")


def main() -> None:
    """Entry point of the ``skillworks`` console script (Typer exits 130 on Ctrl-C, 2 on a usage error)."""
    app()


# Registered last: these modules use the helpers above.
from service.cli_marketplace import register as register_marketplace_commands  # noqa: E402
from service.cli_workflows import workflow as workflow_commands  # noqa: E402

register_marketplace_commands(app)
app.add_typer(workflow_commands, name="workflow")

from service.cli_installs import register as register_install_commands  # noqa: E402

register_install_commands(app)
