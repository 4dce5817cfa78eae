"""A skill's own environments: a virtual environment (uv) for its Python dependencies and a folder
for its npm ones, never skillworks' own.

Nothing a dependency ships runs on the host while installing: wheels only for Python (an
sdist would run its build code here), ``--ignore-scripts`` for npm. Downloads go through
the caches under the skillworks home, so installing again (a reinstall, a downgrade) is fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

from skills.errors import UserMessageError

INSTALL_TIMEOUT_SECONDS = 600


class EnvironmentBuildFailed(UserMessageError):
    """uv or npm could not install the skill's dependencies; nothing was installed."""


def build_python_environment(venv: Path, requirements: list[str], constraints: dict[str, str], cache: Path) -> None:
    """A venv at ``venv`` holding ``requirements``, resolved with skillworks' shared pins as constraints."""
    uv = find_uv_bin()
    environment = {**_base_environment(), "UV_CACHE_DIR": str(cache / "uv"), "UV_NO_CONFIG": "1"}
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], environment, "uv venv")
    constraint_file = venv / "skillworks-constraints.txt"
    constraint_file.write_text("".join(f"{name}=={held}\n" for name, held in sorted(constraints.items())))
    _run(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--only-binary", ":all:",
         "--constraint", str(constraint_file), *requirements],
        environment, "uv pip install",
    )


def build_node_modules(folder: Path, packages: list[str], cache: Path) -> None:
    """``folder/node_modules`` holding ``packages`` (install scripts are not run)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"private": True, "description": "a skill's npm dependencies"}))
    _run(
        ["npm", "install", "--prefix", str(folder), "--cache", str(cache / "npm"), "--prefer-offline", "--no-audit",
         "--no-fund", "--ignore-scripts", "--no-save", "--loglevel", "error", *packages],
        _base_environment(), "npm install",
    )


def _base_environment() -> dict[str, str]:
    """What uv and npm need (PATH, proxies, certificates, their own settings) and no other secrets of this process."""
    kept = ("PATH", "HOME", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "HTTP_PROXY", "HTTPS_PROXY",
            "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
    own_settings = ("npm_config_", "NPM_CONFIG_", "UV_")
    return {name: value for name, value in os.environ.items() if name in kept or name.startswith(own_settings)}


def _run(argv: list[str], environment: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except FileNotFoundError as exc:
        raise EnvironmentBuildFailed(f"{what}: {argv[0]} is not installed.", ["Install Node.js and npm for skills with npm dependencies."]) from exc
    except subprocess.TimeoutExpired as exc:
        raise EnvironmentBuildFailed(f"{what} took longer than {INSTALL_TIMEOUT_SECONDS} s.") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise EnvironmentBuildFailed(f"{what} failed:\n{tail}", ["Check the skill's dependencies: each must exist as a wheel (Python) or package (npm)."])
