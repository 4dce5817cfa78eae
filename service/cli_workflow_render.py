"""How the CLI shows workflows to people: the list, a spec, a verdict with its problems and plan, a run's end."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service.cli_render import render_suggestions, shown_value, summary_table


def workflows_table(listing: dict[str, Any]) -> Table:
    """``skillworks workflow list``: one row per workflow of ``GET /api/workflows``."""
    workflows = listing.get("workflows", [])
    table = Table(title=f"Workflows ({listing.get('count', len(workflows))})", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("id", "name", "version", "source", "deployment"):
        table.add_column(column)
    for workflow in workflows:
        table.add_row(*(escape(str(workflow.get(key) or "")) for key in ("id", "name", "version", "source", "deployment")))
    return table


def render_workflow_spec(console: Console, spec: dict[str, Any], origin: str) -> None:
    """``skillworks workflow show``: what the workflow takes and its nodes, as written."""
    console.print(f"[bold]{escape(str(spec.get('name') or spec.get('id')))}[/] ({escape(str(spec.get('id')))}) "
                  f"{escape(str(spec.get('version', '')))} [dim]· {escape(origin)}[/]")
    if spec.get("description"):
        console.print(escape(str(spec["description"]).strip()))
    parameters = Table("input", "type", "default", "description", title="Inputs", title_justify="left", box=box.SIMPLE_HEAD)
    for name, parameter in (spec.get("parameters") or {}).items():
        default = "[bold]required[/]" if parameter.get("required") else escape(shown_value(parameter.get("default")))
        parameters.add_row(escape(name), escape(str(parameter.get("type", "text"))), default,
                           escape(str(parameter.get("description") or "")))
    console.print(parameters)
    nodes = Table("node", "runs", "after", "options", title="Nodes", title_justify="left", box=box.SIMPLE_HEAD)
    for node in spec.get("nodes") or []:
        runs = f"skill {node['skill']}" if node.get("skill") else f"workflow {node.get('workflow')}"
        after = _field(node, "depends_on", "dependsOn") or []
        nodes.add_row(escape(str(node.get("id"))), escape(runs), escape(", ".join(after) or "-"), escape(_node_options(node)))
    console.print(nodes)


def _node_options(node: dict[str, Any]) -> str:
    options = []
    if node.get("approval"):
        options.append("approval")
    if node.get("when"):
        options.append(f"when {node['when']}")
    for_each = _field(node, "for_each", "forEach")
    if for_each:
        options.append(f"for each {shown_value(for_each)}")
    if _field(node, "on_failure", "onFailure") == "continue":
        options.append("continues on failure")
    if node.get("retries"):
        options.append(f"{node['retries']} retries")
    if node.get("timeout"):
        options.append(f"timeout {node['timeout']} s")
    return "; ".join(options)


def render_problems(console: Console, problems: list[dict[str, Any]]) -> None:
    """Every problem of a verdict, by node (the workflow's own first), with its kind and field."""
    table = Table(title=f"{len(problems)} problem(s)", title_style="bold red", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("node", "kind", "field", "problem"):
        table.add_column(column, overflow="fold")
    for problem in sorted(problems, key=lambda p: (p.get("nodeId") is not None, p.get("nodeId") or "")):
        table.add_row(escape(str(problem.get("nodeId") or "(workflow)")), escape(str(problem.get("kind", ""))),
                      escape(str(problem.get("field") or "")), escape(str(problem.get("message", ""))))
    console.print(table)


def render_workflow_plan(console: Console, plan: dict[str, Any]) -> None:
    """The dry run of a valid workflow: generations side by side, each node's files and commands, the estimate."""
    console.print("[bold]Dry run[/] — nothing was changed")
    nodes = plan.get("nodes") or {}
    table = Table("gen", "node", "runs", "", "files", "commands", "estimate", box=box.SIMPLE_HEAD)
    for generation, ids in enumerate(plan.get("generations") or []):
        for node_id in ids:
            node = nodes.get(node_id, {})
            runs = node.get("skill") or f"workflow {node.get('workflow')}"
            table.add_row(str(generation), escape(node_id), escape(str(runs)), _will_run(node), str(len(node.get("files") or [])),
                          str(len(node.get("commands") or [])), _seconds(node.get("estimatedSeconds")))
    console.print(table)
    console.print(f"Critical path: {escape(' -> '.join(plan.get('criticalPath') or []))}  ·  "
                  f"estimated {_seconds(plan.get('estimatedSeconds'))}")


def _will_run(node: dict[str, Any]) -> str:
    marks = []
    if node.get("willRun") is False:
        marks.append(f"[yellow]skip[/] [dim]{escape(str(node.get('skipReason') or ''))}[/]")
    elif node.get("willRun") is None:
        marks.append("[cyan]decided at run time[/]")
    else:
        marks.append("[green]run[/]")
    if node.get("approval"):
        marks.append("[magenta]approval[/]")
    if node.get("forEach"):
        marks.append(f"for each ({node['items']})" if node.get("items") is not None else "for each")
    return " ".join(marks)


def render_workflow_complete(console: Console, event: dict[str, Any]) -> None:
    rows = [("execution", event.get("executionId", "")), ("duration", event.get("duration", ""))]
    rows += [(f"{node_id} outputs", json.dumps(outputs)) for node_id, outputs in (event.get("outputs") or {}).items()]
    console.print(summary_table("[bold green]Workflow completed[/]", [*rows, ("rollback token", event.get("rollbackToken", ""))]))


def render_workflow_failure(console: Console, event: dict[str, Any]) -> None:
    if event.get("type") == "cancelled":
        undone = ": every node that ran was undone" if event.get("rolledBack") else ""
        console.print(f"[yellow]Cancelled[/] workflow execution {event.get('executionId')}{undone}.")
        return
    failed = f" in node {event['failedNode']}" if event.get("failedNode") else ""
    console.print(f"[bold red]Workflow failed{escape(failed)}[/]: {escape(str(event.get('error')))}")
    if event.get("rolledBack"):
        console.print("[dim]The nodes that completed were compensated (undone), newest first.[/]")
    render_suggestions(console, event.get("suggestions") or [])


def _field(node: dict[str, Any], snake: str, camel: str) -> Any:
    """A node key as YAML (snake_case) or a JSON body (camelCase) writes it."""
    return node.get(snake, node.get(camel))


def _seconds(value: Any) -> str:
    return f"{value:.0f} s" if isinstance(value, (int, float)) else "?"
