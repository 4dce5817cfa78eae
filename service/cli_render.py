"""How the CLI shows things: the dry-run plan, a run's live progress, summaries, history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

_STATUS_STYLE = {"completed": "green", "failed": "red", "cancelled": "yellow", "running": "cyan", "paused": "magenta"}


def render_field_errors(console: Console, errors: list[dict[str, Any]], title: str = "Invalid parameters") -> None:
    table = Table(title=title, title_style="bold red", show_lines=False)
    table.add_column("field", style="bold")
    table.add_column("problem")
    table.add_column("what to do", style="dim")
    for error in errors:
        table.add_row(str(error.get("field", "")), str(error.get("reason", "")), str(error.get("hint", "")))
    console.print(table)


def render_warnings(console: Console, warnings: list[str]) -> None:
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def render_plan(console: Console, validation: dict[str, Any]) -> None:
    """The dry run's preview: steps that run or are skipped (and why), files, commands, persona changes."""
    plan = validation.get("dryRunPreview") or {}
    console.print(f"[bold]Dry run of {escape(str(plan.get('skill', validation.get('skillId'))))}[/] — nothing was changed")
    console.print(f"level [cyan]{plan.get('level')}[/], persona [cyan]{plan.get('persona')}[/]")
    steps = Table(show_header=True, header_style="bold")
    for column in ("#", "step", "", "details"):
        steps.add_column(column)
    for step in plan.get("steps", []):
        steps.add_row(str(step.get("index")), _step_name(step), _step_status(step), _step_details(step))
    console.print(steps)
    _render_list(console, "Files", plan.get("files", []), "green")
    _render_list(console, "Commands", plan.get("commands", []), "cyan")
    _render_list(console, "Persona changes", plan.get("personaChanges", []), "magenta")
    ignored = plan.get("ignoredParameters") or {}
    _render_list(console, "Ignored parameters", [f"{name}: {why}" for name, why in ignored.items()], "dim")
    render_warnings(console, validation.get("warnings", []))
    console.print(
        f"Output: [bold]{escape(str(plan.get('outputPath') or '(workspace)'))}[/]  ·  "
        f"{plan.get('estimatedOutputFiles', 0)} files  ·  estimated {plan.get('estimatedTotalTime', '?')}"
    )


def _step_name(step: dict[str, Any]) -> str:
    marker = "[red]●[/]" if step.get("critical") else "[dim]○[/]"
    return f"{marker} {escape(str(step.get('name')))}"


def _step_status(step: dict[str, Any]) -> str:
    status = step.get("status")
    return {"run": "[green]run[/]", "skip": "[yellow]skip[/]"}.get(str(status), f"[red]{escape(str(status))}[/]")


def _step_details(step: dict[str, Any]) -> str:
    if step.get("reason"):
        return escape(str(step["reason"]))
    parts = []
    if step.get("files"):
        parts.append(f"{len(step['files'])} files")
    if step.get("commands"):
        parts.append(f"{len(step['commands'])} commands")
    if step.get("personaChanges"):
        parts.append(f"{len(step['personaChanges'])} persona changes")
    return ", ".join(parts)


def _render_list(console: Console, title: str, items: list[str], style: str) -> None:
    if not items:
        return
    console.print(f"[bold]{title}[/] ({len(items)})")
    for item in items:
        console.print(f"  [{style}]{escape(str(item))}[/]")


class ExecutionProgress:
    """A live progress bar fed with a run's SSE events; prompts on ``awaiting_confirmation``.

    ``confirm(event) -> bool`` is asked with the bar stopped, so the prompt is readable.
    """

    def __init__(self, console: Console, confirm: Callable[[dict[str, Any]], bool]) -> None:
        self.console = console
        self.confirm = confirm
        self.execution_id: str | None = None
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._task = self.progress.add_task("starting", total=100)

    def __enter__(self) -> ExecutionProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def show(self, event: dict[str, Any]) -> bool | None:
        """Show one event; for a confirmation, the answer (True to proceed), else None."""
        kind = event.get("type")
        print_line = self.progress.console.print
        if kind == "started":
            self.execution_id = event.get("executionId")
            self.progress.update(self._task, description=str(event.get("skillName", "running")))
            print_line(f"[bold]Started[/] {escape(str(event.get('skillName')))} · execution {self.execution_id}")
            if event.get("prefectUrl"):
                print_line(f"[dim]Prefect UI: {event['prefectUrl']}[/]")
        elif kind == "step_progress":
            self.progress.update(self._task, description=escape(str(event.get("stepName"))), completed=event.get("progress", 0))
        elif kind == "step_completed":
            self.progress.update(self._task, completed=event.get("progress", 0))
            seconds = (event.get("durationMs") or 0) / 1000
            files = event.get("filesCreated") or 0
            print_line(f"[green]✓[/] {escape(str(event.get('stepName')))} [dim]({seconds:.1f} s, {files} files)[/]")
        elif kind == "step_skipped":
            print_line(f"[yellow]–[/] {escape(str(event.get('stepName')))} [dim]{escape(str(event.get('reason', '')))}[/]")
        elif kind == "step_failed":
            label = "failed" if event.get("critical") else "failed (not critical, continuing)"
            print_line(
                f"[red]✗[/] {escape(str(event.get('stepName')))} {label} "
                f"[dim](attempt {event.get('attempt', 1)})[/]: {escape(str(event.get('error')))}"
            )
        elif kind == "log":
            for line in str(event.get("message", "")).splitlines():
                print_line(f"[dim]  {escape(line)}[/]")
        elif kind == "awaiting_confirmation":
            self.progress.stop()
            try:
                return self.confirm(event)
            finally:
                self.progress.start()
        elif kind == "complete":
            self.progress.update(self._task, description="complete", completed=100)
        return None


def render_complete(console: Console, event: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, title="[bold green]Completed[/]", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, key in (
        ("execution", "executionId"), ("duration", "duration"), ("files created", "filesCreated"),
        ("output", "outputPath"), ("rollback token", "rollbackToken"),
    ):
        table.add_row(label, escape(str(event.get(key, ""))))
    console.print(table)


def render_failure(console: Console, event: dict[str, Any]) -> None:
    if event.get("type") == "cancelled":
        undone = " and everything it changed was undone" if event.get("rolledBack") else ""
        console.print(f"[yellow]Cancelled[/]: execution {event.get('executionId')}{undone}.")
        return
    console.print(f"[bold red]Failed[/]: {escape(str(event.get('error')))}")
    if event.get("diagnosis"):
        console.print(f"[bold]Likely cause:[/] {escape(event['diagnosis']['title'])}")
    if event.get("rolledBack"):
        console.print("[dim]Everything the run changed was rolled back.[/]")
    render_suggestions(console, event.get("suggestions") or [])


def render_rollback(console: Console, report: dict[str, Any]) -> None:
    if report.get("alreadyRolledBack"):
        console.print(f"Execution {report['executionId']} was already rolled back ({report.get('rolledBackAt')}); nothing changed.")
        return
    console.print(
        f"[bold green]Rolled back[/] execution {report['executionId']}: "
        f"{len(report['deleted'])} removed, {len(report['restored'])} restored."
    )
    for path in report["conflicts"]:
        console.print(f"  [yellow]kept[/] {escape(path)} (edited since the execution; --force undoes it too)")


def render_suggestions(console: Console, suggestions: list[str]) -> None:
    for suggestion in suggestions:
        console.print(f"  [cyan]→[/] {escape(str(suggestion))}")


def history_table(history: dict[str, Any], wide: bool) -> Table:
    """Executions newest first; level and persona only when the terminal is ``wide``."""
    executions = history.get("executions", [])
    table = Table(title=f"Executions ({history.get('count', len(executions))})", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("started", min_width=19)
    table.add_column("skill", min_width=14)
    table.add_column("status", min_width=9)
    table.add_column("duration", min_width=8)
    if wide:
        table.add_column("level")
        table.add_column("persona")
    table.add_column("execution id", overflow="fold")
    for record in executions:
        status = str(record.get("status", ""))
        cells = [
            _local_time(record.get("timestamp")),
            str(record.get("skillId") or record.get("skillName") or ""),
            f"[{_STATUS_STYLE.get(status, 'white')}]{escape(status)}[/]",
            str(record.get("duration") or ""),
        ]
        if wide:
            cells += [str(record.get("level") or ""), str(record.get("persona") or "")]
        table.add_row(*cells, str(record.get("id", "")))
    return table


def _local_time(timestamp: str | None) -> str:
    if not timestamp:
        return ""
    try:
        return datetime.fromisoformat(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return timestamp
