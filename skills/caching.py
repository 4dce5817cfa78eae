"""``cached_for``: remember a slow, read-only probe of the machine for a little while.

Probing tool versions or git's identity spawns processes (milliseconds each); a dry run
asks the same questions on every request, and the answers change rarely.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def cached_for(seconds: float) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function's result per arguments (which must be hashable) for ``seconds``.

    ``function.cache_clear()`` forgets every remembered answer.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        remembered: dict[Hashable, tuple[float, R]] = {}
        lock = threading.Lock()

        @functools.wraps(function)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (args, tuple(sorted(kwargs.items())))
            with lock:
                hit = remembered.get(key)
            if hit is not None and time.monotonic() - hit[0] < seconds:
                return hit[1]
            value = function(*args, **kwargs)
            with lock:
                remembered[key] = (time.monotonic(), value)
            return value

        cached.cache_clear = remembered.clear  # type: ignore[attr-defined]
        return cached

    return decorate
