"""Reading a Server-Sent Events stream in tests, the way a browser's EventSource does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def read_events(response: httpx.Response) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(id, data)`` per event until the server closes the stream."""
    event_id, data_lines = None, []
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            data_lines.append(line[6:])
        elif line == "" and data_lines:
            yield event_id if event_id is not None else -1, json.loads("\n".join(data_lines))
            event_id, data_lines = None, []
