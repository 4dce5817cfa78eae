"""HTTP load from many clients at once, cheap enough per request not to be the bottleneck.

Each client is one keep-alive HTTP/1.1 connection written to and read from with asyncio's
streams: a request costs the generator a few tens of microseconds. ``httpx`` costs more
CPU per request than the facade spends answering ``GET /api/skill-metadata``, so on two
cores shared by the generator and the server it measured its own queue, not the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

CLIENTS = 50


class UnexpectedAnswer(AssertionError):
    """The server answered something else than 200: the latency of an error is no measure."""


def _request_bytes(host: str, method: str, path: str, body: dict | None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + payload


async def _read_answer(reader: asyncio.StreamReader) -> None:
    """Read one response (with a ``Content-Length``, as the facade's JSON answers have)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    answer = await reader.readexactly(length)
    if status_line.split(" ", 2)[1] != "200":
        raise UnexpectedAnswer(f"{status_line}: {answer[:500]!r}")


async def latency(
    base: str, method: str, path: str, body: dict | None, pause: float, requests: int, clients: int = CLIENTS
) -> list[float]:
    """Milliseconds per request: each of ``clients`` sends ``requests`` requests, each after the
    previous answer and ``pause`` seconds.

    ``pause=0`` saturates the server (closed loop): latency is then mostly queueing behind the
    other clients. A pause shows the latency at a steady rate the server keeps up with.
    """
    address = urlsplit(base)
    assert address.hostname is not None and address.port is not None, base
    request = _request_bytes(address.netloc, method, path, body)

    async def one_client() -> list[float]:
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        timings = []
        try:
            await _send(writer, reader, request)  # warm-up: the connection is open and the route is hot
            for _ in range(requests):
                started = time.perf_counter()
                await _send(writer, reader, request)
                timings.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(pause)
        finally:
            writer.close()
        return timings

    results = await asyncio.gather(*(one_client() for _ in range(clients)))
    return [timing for timings in results for timing in timings]


async def _send(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, request: bytes) -> None:
    writer.write(request)
    await _read_answer(reader)
