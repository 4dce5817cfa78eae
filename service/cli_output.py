"""What every ``skillworks`` command prints, for people or (``--json``) for scripts, and its exit code.

The contract a script can rely on:

- ``--json``: stdout carries only JSON — one document for a command with one answer (the
  API's own body, camelCase), or one event per line (JSON Lines) for a command that follows
  a run. Nothing else is written there: no colour, no progress bar, no prompt.
- An error is one JSON line on stderr, ``{error, code, details, suggestions, exitCode}``
  (the API's error body, plus what to do and the exit code), and nothing on stdout. Nothing
  else goes to stderr either, except Typer's own usage errors (text, exit 2).
- Exit codes: 0 success; 1 the run or the operation failed (a failed or cancelled run, a
  conflict, the API unreachable); 2 invalid input (field errors, an unknown skill or
  execution, bad flags — Typer's own usage errors are 2 as well); 130 interrupted (Ctrl-C).

Example:
    ```
    skillworks run react-setup -p projectName=shop --json | jq -c 'select(.type == "complete")'
    skillworks show rest-api --json | jq '.parameters | keys'
    ```
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from service.cli_render import render_field_errors, render_suggestions, render_warnings
from service.cli_workflow_render import render_problems
from service.facade_client import FacadeError
from skills.errors import InvalidParametersError, UserMessageError


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    INVALID = 2
    INTERRUPTED = 130


JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output: JSON on stdout, errors as JSON on stderr.")]

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


class CommandFailed(Exception):
    """A command's own refusal, shown like an API error: ``raise CommandFailed(...)`` inside ``exit_on_errors``."""

    def __init__(self, exit_code: ExitCode, message: str, code: str, details: Any = None, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message
        self.code = code
        self.details = details
        self.suggestions = suggestions or []


class CliOutput:
    """Where a command's result, events and errors go: rich text for people, JSON with ``as_json``."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def result(self, document: Any, render: Callable[[Console], None]) -> None:
        """A command's one answer: ``document`` as JSON, or ``render(console)`` for people."""
        if self.as_json:
            write_json_line(document)
        else:
            render(console)

    def event(self, event: dict[str, Any]) -> None:
        """One event of a run (JSON Lines); people see events through ``ExecutionProgress``."""
        write_json_line(event)

    def error(
        self, exit_code: ExitCode, message: str, code: str, details: Any = None, suggestions: list[str] | None = None
    ) -> ExitCode:
        """Report an error on stderr and return its exit code."""
        suggestions = suggestions or []
        if self.as_json:
            body = {"error": message, "code": code, "details": details, "suggestions": suggestions, "exitCode": int(exit_code)}
            sys.stderr.write(json.dumps(body, ensure_ascii=False, default=str) + "\n")
            return exit_code
        field_errors = _listed(details, "errors")
        if field_errors:
            render_field_errors(errors, field_errors)
            render_warnings(errors, details.get("warnings") or [])
        elif _listed(details, "problems"):  # a workflow refused: every problem, by node
            errors.print(f"[bold red]Error:[/] {escape(message)}")
            render_problems(errors, details["problems"])
        else:
            errors.print(f"[bold red]Error:[/] {escape(message)}")
        render_suggestions(errors, suggestions)
        return exit_code

    def note(self, message: str) -> None:
        """A remark for people on stderr (what is happening); none with ``--json``, where stderr carries only errors."""
        if not self.as_json:
            errors.print(message)


def write_json_line(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()  # a script following a run reads each event as it comes


def exit_code_of_status(status: int) -> ExitCode:
    """A refusal by the API: the caller's input (4xx) is invalid, except a conflict with a run's state (409)."""
    return ExitCode.INVALID if 400 <= status < 500 and status != 409 else ExitCode.FAILED


@contextmanager
def exit_on_errors(output: CliOutput) -> Iterator[None]:
    """Show an error a command hit and exit with its code (see the module's contract)."""
    try:
        yield
    except InvalidParametersError as invalid:
        details = {"errors": [vars(issue) for issue in invalid.issues]}
        raise typer.Exit(output.error(ExitCode.INVALID, invalid.message, "invalid_parameters", details)) from None
    except FacadeError as failure:
        code = exit_code_of_status(failure.status)
        raise typer.Exit(output.error(code, failure.message, failure.code, failure.details, failure.suggestions)) from None
    except CommandFailed as failure:
        raise typer.Exit(output.error(failure.exit_code, failure.message, failure.code, failure.details, failure.suggestions)) from None
    except UserMessageError as failure:
        raise typer.Exit(output.error(ExitCode.FAILED, failure.message, _code_of(failure), None, failure.suggestions)) from None


def _listed(details: Any, key: str) -> list[dict[str, Any]]:
    """``details[key]`` when the error's details list per-field errors or a workflow's problems there."""
    if isinstance(details, dict) and isinstance(details.get(key), list):
        return details[key]
    return []


def _code_of(failure: UserMessageError) -> str:
    """``FacadeUnavailableError`` -> ``facade_unavailable``: a stable code from the error's type."""
    name = type(failure).__name__.removesuffix("Error")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
