"""The bubblewrap command line of one sandboxed step: what the step's process can see and do.

- The root is an empty tmpfs with read-only system folders (``/usr``, the links into it, a few
  files of ``/etc``), Python, skillworks' step API and, read-only, the skill's own folder and
  environments. No home (``HOME`` is a folder in the scratch), no other part of the workspace.
- The only writable paths: the scratch (``/tmp``, a tmpfs that vanishes with the sandbox) and,
  in a real run, the target folder, for the commands the step runs.
- Every namespace is unshared; the network too, unless the skill declares it and the user
  allowed it for this execution. The environment is emptied and set anew: no secret leaks in.
- All capabilities are dropped, the sandbox gets a session of its own, and dies with its parent.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from skills.errors import UserMessageError

_SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_FILES = (
    "ssl", "ca-certificates", "alternatives", "resolv.conf", "hosts", "nsswitch.conf", "ld.so.cache", "localtime",
    "passwd", "group",
)
SCRATCH = Path("/tmp")
STEP_API_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the ``skills`` package


class SandboxUnavailable(UserMessageError):
    """bubblewrap is missing or cannot make a sandbox here, so third-party code cannot run."""


@dataclass
class SandboxMounts:
    """What one sandboxed step sees besides the system: read-only folders, and its writable target."""

    read_only: list[Path] = field(default_factory=list)
    writable: Path | None = None
    network: bool = False


def bubblewrap_executable() -> str:
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, and third-party skills run only inside it.",
            ["Install it: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`."],
        )
    return found


def python_paths() -> list[Path]:
    """What the step API needs read-only: the Python installation, skillworks' environment and source."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), STEP_API_ROOT / "skills"}
    return sorted(p for p in paths if not _under(p, Path("/usr")))


def bubblewrap_argv(command: list[str], mounts: SandboxMounts, environment: dict[str, str]) -> list[str]:
    """The full ``bwrap ... -- command`` argv."""
    argv = [
        bubblewrap_executable(), "--unshare-all", *(["--share-net"] if mounts.network else []),
        "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
        "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", str(SCRATCH),
    ]
    for name in _SYSTEM_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", str(host.readlink()), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
    for name in _ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for path in [*python_paths(), *mounts.read_only]:
        argv += ["--ro-bind", str(path), str(path)]
    if mounts.writable is not None:
        argv += ["--bind", str(mounts.writable), str(mounts.writable)]
    for name, value in environment.items():
        argv += ["--setenv", name, value]
    return [*argv, "--chdir", str(SCRATCH), "--", *command]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
