"""How the CLI shows skills to people: the catalog, one skill, the dry-run plan, a run's end, history, rollback."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
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
        + _measured_note(plan.get("measuredTime"))
    )


def _measured_note(measured: dict[str, Any] | None) -> str:
    """The measured duration of past runs like this one, beside the author's estimate."""
    if not measured:
        return ""
    return (
        f"  ·  [bold]measured p50 {format_seconds(measured['p50Seconds'])}[/], p95 {format_seconds(measured['p95Seconds'])} "
        f"[dim](last {measured['runs']} completed runs with these steps)[/]"
    )


def format_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} s" if value < 90 else f"{value / 60:.1f} min"


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


def render_complete(console: Console, event: dict[str, Any]) -> None:
    labels = (("execution", "executionId"), ("duration", "duration"), ("files created", "filesCreated"),
              ("output", "outputPath"), ("rollback token", "rollbackToken"))
    console.print(summary_table("[bold green]Completed[/]", [(label, event.get(key, "")) for label, key in labels]))


def summary_table(title: str, rows: list[tuple[str, Any]]) -> Table:
    """A titled two-column table of labels and values, as a run's end is summed up."""
    table = Table(show_header=False, box=None, title=title, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(escape(label), escape(str(value)))
    return table


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
    reasons = report.get("reasons", {})
    for path in report["conflicts"]:
        console.print(f"  [yellow]conflict[/] {escape(path)}: {escape(reasons.get(path, 'edited since'))} (--force undoes edits)")
    for path in report.get("kept", []):
        console.print(f"  [dim]kept[/] {escape(path)}: {escape(reasons.get(path, ''))}")


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


def skills_table(catalog: dict[str, Any]) -> Table:
    """``skillworks skills``: one row per skill of ``GET /api/skill-metadata``."""
    skills = catalog.get("skills", [])
    table = Table(title=f"Skills ({catalog.get('count', len(skills))})", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("id", "name", "category", "version", "estimate"):
        table.add_column(column)
    for skill in skills:
        table.add_row(
            escape(str(skill.get("id"))), escape(str(skill.get("name"))), escape(str(skill.get("category"))),
            escape(str(skill.get("version"))), escape(str(skill.get("estimatedTime"))),
        )
    return table


def render_skill(console: Console, skill: dict[str, Any]) -> None:
    """``skillworks show SKILL``: description, parameters with their validation, steps, outputs, requirements."""
    console.print(f"[bold]{escape(str(skill.get('name')))}[/] ({escape(str(skill.get('id')))}) {escape(str(skill.get('version')))}")
    console.print(
        f"[dim]{escape(str(skill.get('category')))} · {escape(str(skill.get('estimatedTime')))} · "
        f"{escape(str(skill.get('estimatedFiles') or '?'))} files · {skill.get('totalSteps', 0)} steps[/]"
    )
    console.print(escape(str(skill.get("description", ""))))
    console.print(_parameters_table(skill))
    console.print(_steps_table(skill.get("steps", [])))
    outputs = skill.get("outputs") or {}
    if outputs:
        table = Table("output", "type", "description", title="Outputs", title_justify="left", box=box.SIMPLE_HEAD)
        for name, spec in outputs.items():
            table.add_row(escape(name), escape(str(spec.get("type", ""))), escape(str(spec.get("description", ""))))
        console.print(table)
    requires = skill.get("requires") or {}
    _render_list(console, "Requires", [f"{tool} {version}" for tool, version in requires.items()], "cyan")


def _parameters_table(skill: dict[str, Any]) -> Table:
    schema = (skill.get("parametersSchema") or {}).get("properties", {})
    table = Table(title="Parameters", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("name", "type", "default", "validation", "description"):
        table.add_column(column, overflow="fold")
    for name, spec in (skill.get("parameters") or {}).items():
        default = "[bold]required[/]" if spec.get("required") else escape(shown_value(spec.get("default")))
        description = str(spec.get("description") or "")
        if spec.get("when"):
            description += f" (only when {spec['when']})"
        table.add_row(escape(name), escape(str(spec.get("type"))), default,
                      escape("; ".join(parameter_rules(spec, schema.get(name, {})))), escape(description))
    return table


def parameter_rules(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What a value must be, in words, from the parameter's metadata and its JSON Schema.

    >>> parameter_rules({"options": ["a", "b"], "recommended": "a"}, {"minimum": 1})
    ['one of: a, b (recommended: a)', '>= 1']
    """
    rules = []
    if spec.get("options"):
        recommended = f" (recommended: {spec['recommended']})" if spec.get("recommended") is not None else ""
        rules.append(f"one of: {', '.join(map(str, spec['options']))}{recommended}")
    if spec.get("pattern"):
        rules.append(f"matches {spec['pattern']}")
    bounds = (("minLength", ">= {} chars"), ("maxLength", "<= {} chars"), ("minimum", ">= {}"), ("maximum", "<= {}"),
              ("minItems", ">= {} items"), ("maxItems", "<= {} items"))
    rules += [template.format(schema[key]) for key, template in bounds if key in schema]
    item_type = (schema.get("items") or {}).get("type")
    if item_type:
        rules.append(f"items: {item_type}")
    return rules


def _steps_table(steps: list[dict[str, Any]]) -> Table:
    table = Table(title="Steps", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("#", "step", "critical", "timeout", "retries", "runs when"):
        table.add_column(column)
    for step in steps:
        timeout = step.get("timeoutSeconds")
        table.add_row(
            str(step.get("index")), f"{escape(str(step.get('name')))} [dim]{escape(str(step.get('id')))}[/]",
            "yes" if step.get("critical") else "no", f"{timeout:g} s" if timeout else "default",
            str(step.get("retries", 0)), escape(str(step.get("when") or "always")),
        )
    return table


def shown_value(value: Any) -> str:
    """A parameter value as a person reads it: ``-`` for none, JSON for lists, objects and booleans."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)
