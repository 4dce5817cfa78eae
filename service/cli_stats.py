"""How ``skillworks stats`` shows ``/api/analytics``: a row per skill; for one skill, its steps and failures."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from service.cli_render import format_seconds


def stats_tables(analytics: dict[str, Any], skill_id: str | None) -> list[Table]:
    """The skills' table; with ``skill_id``, that skill's steps and most frequent failures too."""
    if not analytics["skills"]:
        return []
    tables = [_skills(analytics)]
    chosen = next((row for row in analytics["skills"] if row["skillId"] == skill_id), None)
    if chosen is not None:
        tables += [_steps(chosen), _failures(chosen)]
    return tables


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _skills(analytics: dict[str, Any]) -> Table:
    table = _table(
        f"Runs since {analytics['since'][:16].replace('T', ' ')} UTC",
        ("skill", "runs", "completed", "failed", "cancelled", "rolled back", "success", "p50", "p95"),
    )
    for row in analytics["skills"]:
        statuses = row["statuses"]
        table.add_row(
            escape(row["skillId"]), str(row["runs"]), str(statuses["completed"]), str(statuses["failed"]),
            str(statuses["cancelled"] + statuses["crashed"]), str(row["rolledBack"]), _rate(row["successRate"]),
            format_seconds(row["durations"]["p50Seconds"]), format_seconds(row["durations"]["p95Seconds"]),
        )
    return table


def _steps(skill: dict[str, Any]) -> Table:
    table = _table(f"Steps of {escape(skill['skillName'])}", ("step", "runs", "failed", "success", "p50", "p95"))
    for step in skill["steps"]:
        table.add_row(
            escape(step["stepName"]), str(step["runs"]), str(step["failed"]), _rate(step["successRate"]),
            format_seconds(step["durations"]["p50Seconds"]), format_seconds(step["durations"]["p95Seconds"]),
        )
    return table


def _failures(skill: dict[str, Any]) -> Table:
    table = _table("Most frequent failures", ("step", "diagnosis", "attempts"))
    for failure in skill["failures"]:
        diagnosis = failure["title"] or "(no diagnosis: see the run's log)"
        table.add_row(escape(failure["stepId"]), escape(diagnosis), str(failure["count"]))
    return table


def _rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"
