"""Following a run's event stream from the CLI: show each event, answer pauses, and Ctrl-C.

One loop for every command that follows a run (``run``, ``retry``, ``cancel --wait``,
``workflow run``); what differs is the view (a progress bar, node lines, or JSON Lines).

Ctrl-C: the run was started by this command in the foreground, so Ctrl-C stops it, as it
stops a flow run in the foreground in Prefect (``python my_flow.py``): the CLI asks the
server to cancel the run — which undoes what it changed — and keeps showing the stream until
the run says ``cancelled``. A second Ctrl-C stops waiting (the cancellation goes on in the
server). Either way the exit code is 130. A run started elsewhere and only watched
(``cancel --wait`` is the one such command) is never cancelled by a Ctrl-C of the watcher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from service.cli_output import CliOutput, ExitCode, write_json_line
from service.facade_client import FacadeClient, FacadeError

Event = dict[str, Any]


class RunView(Protocol):
    """How a run's events are shown; ``show`` returns the answer to a pause (True to go on), else None."""

    execution_id: str | None

    def __enter__(self) -> RunView: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def show(self, event: Event) -> bool | None: ...

    def finish(self, final: Event) -> None: ...


class EventLines:
    """``--json``: each event as one JSON line on stdout; pauses are asked through ``confirm``."""

    def __init__(self, confirm: Callable[[Event], bool]) -> None:
        self.confirm = confirm
        self.execution_id: str | None = None

    def __enter__(self) -> EventLines:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def show(self, event: Event) -> bool | None:
        write_json_line(event)
        if event.get("type") == "started" and self.execution_id is None:
            self.execution_id = event.get("executionId")
        if event.get("type") == "awaiting_confirmation":
            return self.confirm(event)
        return None

    def finish(self, final: Event) -> None:
        return None  # the terminal event was already written


def exit_code_of_end(final: Event) -> ExitCode:
    return ExitCode.OK if final.get("type") == "complete" else ExitCode.FAILED


def follow_run(client: FacadeClient, events: Iterator[tuple[int, Event]], view: RunView, output: CliOutput) -> ExitCode:
    """Show a run this command started until its end; the exit code of that end (130 on Ctrl-C)."""
    last_id, final = -1, {}
    with view:
        try:
            for last_id, event in events:
                final = event
                answer = view.show(event)
                if answer is not None:
                    # A pause names the run to answer (a workflow's node or the workflow itself).
                    client.confirm(str(event.get("executionId") or view.execution_id), answer)
        except KeyboardInterrupt:
            return _cancel_on_interrupt(client, view, output, last_id)
        view.finish(final)
    return exit_code_of_end(final)


def watch_run(client: FacadeClient, execution_id: str, view: RunView) -> Event | None:
    """Show a run started elsewhere until its end, and return its terminal event; Ctrl-C only
    stops watching (None). Pauses are left for whoever started the run to answer."""
    final: Event = {}
    with view:
        try:
            for _, final in client.attach(execution_id):
                if final.get("type") != "awaiting_confirmation":
                    view.show(final)
        except KeyboardInterrupt:
            return None
        view.finish(final)
    return final


def _cancel_on_interrupt(client: FacadeClient, view: RunView, output: CliOutput, last_id: int) -> ExitCode:
    execution_id = view.execution_id
    if execution_id is None:
        output.note("Interrupted before the run reported its id: if it started, `skillworks history` shows it "
                    "and `skillworks cancel ID` stops it.")
        return ExitCode.INTERRUPTED
    output.note(f"Cancelling execution {execution_id}; what it changed is undone. "
                "Press Ctrl-C again to stop waiting (the cancellation goes on).")
    try:
        client.cancel(execution_id)
    except FacadeError as refused:
        if refused.code != "already_finished":
            output.error(ExitCode.FAILED, refused.message, refused.code, refused.details, refused.suggestions)
            return ExitCode.INTERRUPTED
    final: Event = {}
    try:
        for _, final in client.attach(execution_id, last_id):
            # Nobody answers a pause of a run being cancelled: the cancellation ends it.
            if final.get("type") != "awaiting_confirmation":
                view.show(final)
    except KeyboardInterrupt:
        output.note(f"Stopped waiting; execution {execution_id} is being cancelled by the server.")
        return ExitCode.INTERRUPTED
    view.finish(final)
    return ExitCode.INTERRUPTED
