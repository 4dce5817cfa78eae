"""A run's live view for people: a progress bar and one line per thing that happened.

One view for skill and workflow runs, fed with their SSE events: the ``started`` event says
which (a workflow's names its ``workflowId``). A skill's bar follows its ``progress``; a
workflow's counts its nodes that ended, and the step events its nodes forward are shown
under the node's id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from service.cli_render import format_seconds, render_complete, render_failure
from service.cli_workflow_render import render_workflow_complete, render_workflow_failure

Event = dict[str, Any]
_NODE_ENDS = frozenset({"node_completed", "node_skipped", "node_failed"})


class TimeRemaining:
    """Time left in a run, from each step's measured median (``measuredTime.stepP50Seconds``).

    Steps leave the sum as they complete, fail or are skipped; without measurements it is
    unknown and shows nothing.
    """

    def __init__(self, step_p50_seconds: dict[str, float]) -> None:
        self.left = dict(step_p50_seconds)

    def account(self, event: Event) -> None:
        if event.get("type") in ("step_completed", "step_skipped", "step_failed"):
            self.left.pop(str(event.get("stepId")), None)
        elif event.get("type") in ("complete", "error", "cancelled"):
            self.left.clear()

    def label(self) -> str:
        return f"~{format_seconds(sum(self.left.values()))} left" if self.left else ""


class ExecutionProgress:
    """Shows a run's events; asks ``confirm(event) -> bool`` at a pause, with the bar stopped so the
    prompt is readable; ``finish`` shows how the run ended (a failure on ``failures``, stderr);
    ``remaining`` estimates the time left of a skill run."""

    def __init__(
        self, console: Console, confirm: Callable[[Event], bool], failures: Console, remaining: TimeRemaining | None = None,
    ) -> None:
        self.console = console
        self.confirm = confirm
        self.failures = failures
        self.remaining = remaining or TimeRemaining({})
        self.execution_id: str | None = None
        self.workflow = False
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[left]}"), console=console,
        )
        self._task = self.progress.add_task("starting", total=100, left=self.remaining.label())

    def __enter__(self) -> ExecutionProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def show(self, event: Event) -> bool | None:
        """Show one event; for a pause, the answer (True to go on), else None."""
        kind = str(event.get("type"))
        self.remaining.account(event)
        self.progress.update(self._task, left=self.remaining.label())
        if kind == "started" and self.execution_id is None:
            self._started(event)
        elif kind == "awaiting_confirmation":
            self.progress.stop()
            try:
                return self.confirm(event)
            finally:
                self.progress.start()
        elif kind in _NODE_ENDS or kind in ("node_started", "compensating", "compensated"):
            self._node(kind, event)
        else:
            self._step(kind, event)
        return None

    def finish(self, final: Event) -> None:
        self.progress.stop()
        if final.get("type") == "complete":
            (render_workflow_complete if self.workflow else render_complete)(self.console, final)
        else:
            (render_workflow_failure if self.workflow else render_failure)(self.failures, final)

    def _started(self, event: Event) -> None:
        self.execution_id = event.get("executionId")
        self.workflow = event.get("workflowId") is not None
        name = event.get("workflowName") or event.get("skillName") or "running"
        if self.workflow:
            # A workflow's bar counts nodes: its nodes' own progress would go back and forth.
            self.progress.columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self.progress.update(self._task, total=event.get("totalNodes") or 1)
        self.progress.update(self._task, description=escape(str(name)))
        what = "workflow" if self.workflow else ""
        self._print(f"[bold]Started[/] {what} {escape(str(name))} · execution {self.execution_id}")
        if event.get("prefectUrl"):
            self._print(f"[dim]Prefect UI: {event['prefectUrl']}[/]")

    def _node(self, kind: str, event: Event) -> None:
        node = escape(str(event.get("nodeId")))
        if kind == "node_started":
            self._print(f"[cyan]▶[/] node [bold]{node}[/] ({escape(str(event.get('skillId') or ''))}) started "
                        f"[dim]· execution {event.get('executionId')}[/]")
        elif kind == "node_completed":
            self._print(f"[green]✓[/] node [bold]{node}[/] completed")
        elif kind == "node_skipped":
            self._print(f"[yellow]–[/] node [bold]{node}[/] skipped [dim]{escape(str(event.get('reason', '')))}[/]")
        elif kind == "node_failed":
            self._print(f"[red]✗[/] node [bold]{node}[/] failed: {escape(str(event.get('error')))}")
        elif kind == "compensating":
            self._print(f"[magenta]↺[/] undoing node [bold]{node}[/]")
        elif kind == "compensated":
            conflicts = event.get("conflicts") or []
            kept = f", {len(conflicts)} conflict(s) kept: {escape(', '.join(conflicts))}" if conflicts else ""
            self._print(f"[magenta]↺[/] node [bold]{node}[/] undone ({len(event.get('undone') or [])} paths){kept}")
        if kind in _NODE_ENDS:
            self.progress.advance(self._task)

    def _step(self, kind: str, event: Event) -> None:
        prefix = f"  [dim]{escape(str(event['nodeId']))} │[/] " if event.get("nodeId") else ""
        step = escape(str(event.get("stepName")))
        if kind == "step_progress" and not self.workflow:
            self.progress.update(self._task, description=step, completed=event.get("progress", 0))
        elif kind == "step_completed":
            if not self.workflow:
                self.progress.update(self._task, completed=event.get("progress", 0))
            seconds = (event.get("durationMs") or 0) / 1000
            self._print(f"{prefix}[green]✓[/] {step} [dim]({seconds:.1f} s, {event.get('filesCreated') or 0} files)[/]")
        elif kind == "step_skipped":
            self._print(f"{prefix}[yellow]–[/] {step} [dim]{escape(str(event.get('reason', '')))}[/]")
        elif kind == "step_failed":
            label = "failed" if event.get("critical") else "failed (not critical, continuing)"
            self._print(f"{prefix}[red]✗[/] {step} {label} [dim](attempt {event.get('attempt', 1)})[/]: "
                        f"{escape(str(event.get('error')))}")
        elif kind == "log":
            for line in str(event.get("message", "")).splitlines():
                self._print(f"{prefix}[dim]  {escape(line)}[/]")
        elif kind == "complete" and not self.workflow:
            self.progress.update(self._task, description="complete", completed=100)

    def _print(self, line: str) -> None:
        self.progress.console.print(line)
