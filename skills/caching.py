"""``cached_for``: remember a slow, read-only probe of the machine for a little while.

Probing tool versions or git's identity spawns processes (milliseconds each); a dry run
asks the same questions on every request, and the answers change rarely. Under load the
naive cache stampedes: when an answer expires, every request in flight starts its own
probe. Here, per arguments:

- one probe runs at a time; callers that need the answer meanwhile wait for that probe
  and share its result;
- an answer older than ``refresh_after`` (three quarters of its life by default) is still
  served at once, while one probe refreshes it in the background, so a busy caller
  never waits for an expiry at all.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Entry(Generic[R]):
    value: Any = None
    fetched_at: float | None = None  # None: never fetched
    probing: threading.Event | None = None  # set when the probe in flight ends
    error: BaseException | None = None


@dataclass
class _SharedProbe(Generic[R]):
    function: Callable[..., R]
    seconds: float
    refresh_after: float
    entries: dict[Hashable, _Entry[R]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        with self.lock:
            entry = self._entry(args, kwargs)
            if self._serve_at_once(entry, args, kwargs):
                return entry.value
            in_flight, mine = entry.probing, entry.probing is None
            if mine:
                in_flight = entry.probing = threading.Event()
        if mine:
            self._probe(entry, args, kwargs)
        else:
            assert in_flight is not None
            in_flight.wait()
        if entry.error is not None and entry.fetched_at is None:
            raise entry.error
        return entry.value

    def known(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[bool, R | None]:
        """``(True, answer)`` if an answer can be given without waiting, else ``(False, None)``."""
        with self.lock:
            entry = self._entry(args, kwargs)
            return (True, entry.value) if self._serve_at_once(entry, args, kwargs) else (False, None)

    def _entry(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Entry[R]:
        return self.entries.setdefault((args, tuple(sorted(kwargs.items()))), _Entry())

    def _serve_at_once(self, entry: _Entry[R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Whether ``entry`` still answers; one getting old is refreshed in the background."""
        age = None if entry.fetched_at is None else time.monotonic() - entry.fetched_at
        if age is None or age >= self.seconds:
            return False
        if age >= self.refresh_after and entry.probing is None:
            entry.probing = threading.Event()
            threading.Thread(target=self._probe, args=(entry, args, kwargs), daemon=True).start()
        return True

    def _probe(self, entry: _Entry[R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            value = self.function(*args, **kwargs)
        except BaseException as exc:  # shared with the waiters, who raise it too
            with self.lock:
                entry.error, done, entry.probing = exc, entry.probing, None
        else:
            with self.lock:
                entry.value, entry.fetched_at, entry.error = value, time.monotonic(), None
                done, entry.probing = entry.probing, None
        assert done is not None
        done.set()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def cached_for(seconds: float, refresh_after: float | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function's result per arguments (which must be hashable) for ``seconds``.

    ``function.cache_clear()`` forgets every remembered answer; ``function.known(*args)`` is
    ``(True, answer)`` when the answer is there without waiting, ``(False, None)`` otherwise.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        probe = _SharedProbe(function, seconds, seconds * 0.75 if refresh_after is None else refresh_after)

        @functools.wraps(function)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            return probe.get(args, kwargs)

        cached.cache_clear = probe.clear  # type: ignore[attr-defined]
        cached.known = lambda *args, **kwargs: probe.known(args, kwargs)  # type: ignore[attr-defined]
        return cached

    return decorate
