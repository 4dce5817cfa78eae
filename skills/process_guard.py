"""The guard every step command runs under, so no process of a run outlives it.

A command such as ``npm install`` starts processes of its own (lifecycle scripts, ``node``
workers), and some of those start more. Killing ``npm`` leaves them running, in a folder
that rollback is about to empty. So each command runs as::

    python -S process_guard.py -- npm install

The guard is a child subreaper (orphans of the command are re-parented to it, not to
init) and leads a session of its own, which the command inherits. It ends the whole tree —
its process group and every descendant, even those that started sessions of their own —
when:

- the command exits (nothing a step started may keep running after it);
- it receives SIGTERM, SIGINT or SIGHUP (a step timeout or a cancellation asks it to);
- the process that started it dies, SIGKILL included: the kernel sends it SIGTERM
  (``PR_SET_PDEATHSIG``, set before ``exec``), and that process can no longer clean up.

This file is run by path with ``python -S``, so it imports nothing but the standard
library, and of that only what starts fast: every step command pays the guard's start-up,
and ``subprocess`` and ``pathlib`` alone took 30 of its 43 ms. ``skills.commands`` imports its
helpers.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)
GUARD_SCRIPT = os.path.abspath(__file__)
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Have the kernel send ``signum`` to this process when the thread that started it dies.

    Returns silently where ``prctl`` does not exist (not Linux): there the guarantee is lost.
    """
    _libc.prctl(_PR_SET_PDEATHSIG, signum)


def guarded_argv(argv: list[str]) -> list[str]:
    """``argv`` run under the guard."""
    return [sys.executable, "-S", GUARD_SCRIPT, "--", *argv]


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, read from ``/proc`` (children before grandchildren)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                # The command name (2nd field) may hold spaces and parentheses: split after the last ')'.
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    queue = [pid]
    while queue:
        below = children.get(queue.pop(0), [])
        found.extend(below)
        queue.extend(below)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL every descendant of ``pid`` (not ``pid`` itself) until none is left.

    Each round stops the survivors first, so a process cannot fork faster than it is killed.
    """
    for _ in range(50):
        below = descendants(pid)
        if not below:
            return
        for signum in (signal.SIGSTOP, signal.SIGKILL):
            for child in below:
                try:
                    os.kill(child, signum)
                except ProcessLookupError:
                    pass
        _reap_all()
        time.sleep(0.01)


def _reap_all() -> None:
    """Collect the exit status of every finished child, adopted orphans included."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class _StopRequested(Exception):
    """Raised by the signal handler, to break out of waiting for the command."""


def _request_stop(signum: int, frame: object) -> None:
    # Only the first request counts. The parent-death signal comes again and again: a dying
    # multi-threaded process passes its children from thread to thread, and the kernel sends
    # the signal at each pass. A second one raised in the middle of the clean-up would end
    # the guard before it ended the command.
    _ignore_stop_signals()
    raise _StopRequested


def _ignore_stop_signals() -> None:
    for signum in _FORWARDED:
        signal.signal(signum, signal.SIG_IGN)


def _run_guarded(argv: list[str]) -> int:
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    for signum in _FORWARDED:
        signal.signal(signum, _request_stop)
    returncode: int | None = None
    try:
        # Python ignores SIGPIPE and SIGXFSZ; the command gets them back, as ``subprocess`` does.
        command = os.posix_spawnp(argv[0], argv, os.environ, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        returncode = os.waitstatus_to_exitcode(os.waitpid(command, 0)[1])
    except _StopRequested:
        pass
    except OSError as exc:  # the command could not start
        print(f"{argv[0]}: {exc.strerror}", file=sys.stderr)
        returncode = 127
    finally:
        _ignore_stop_signals()  # nothing may interrupt the clean-up
        kill_tree(os.getpid())
    if returncode is None:
        return 128 + signal.SIGTERM
    return returncode if returncode >= 0 else 128 - returncode


def main() -> None:
    arguments = sys.argv[1:]
    if not arguments or arguments[0] != "--" or len(arguments) < 2:
        print("usage: python -S process_guard.py -- COMMAND [ARG...]", file=sys.stderr)
        sys.exit(2)
    sys.exit(_run_guarded(arguments[1:]))


if __name__ == "__main__":
    main()
