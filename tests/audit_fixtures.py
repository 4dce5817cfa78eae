"""Fixture projects and advisory data for the security-audit tests, made in temporary folders.

Planted secrets are assembled at run time, so this repository never holds a literal key
that secret scanners (ours included) would flag.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# A real snapshot of PyPA's advisory database (OSV YAML), kept beside the checkout.
PYPA_ADVISORIES = Path(__file__).resolve().parents[2] / "shared" / "advisories" / "pypi"

AWS_ACCESS_KEY = "AKIA" + "Z7VRSQ5UOYJ4XH2B"
GITHUB_TOKEN = "ghp_" + "8mVbXqT2nL5kR9sW3cY7hJ1dF4gA6eZ0uPoI"
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7\n-----END RSA PRIVATE KEY-----\n"

# npm advisories in OSV format, modelled on GitHub's records for these packages.
NPM_RECORDS = [
    {
        "id": "GHSA-35jh-r3h4-6jhm",
        "summary": "Command Injection in lodash",
        "aliases": ["CVE-2021-23337"],
        "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}],
        "database_specific": {"severity": "HIGH"},
    },
    {
        "id": "GHSA-xvch-5gv4-984h",
        "summary": "Prototype Pollution in minimist",
        "aliases": ["CVE-2021-44906"],
        "affected": [{"package": {"ecosystem": "npm", "name": "minimist"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.2.4"}]},
                                 {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.6"}]}]}],
        "database_specific": {"severity": "CRITICAL"},
    },
]


def write_advisory_db(root: Path, pypi: bool = True, npm: bool = True) -> Path:
    """A local OSV database: PyPA's snapshot linked in as ``pypi/``, the npm records written as ``npm/<pkg>/<id>.json``."""
    root.mkdir(parents=True, exist_ok=True)
    if pypi:
        (root / "pypi").symlink_to(PYPA_ADVISORIES, target_is_directory=True)
    if npm:
        for record in NPM_RECORDS:
            folder = root / "npm" / record["affected"][0]["package"]["name"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{record['id']}.json").write_text(json.dumps(record))
    return root


def write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        os.chmod(path, mode)


def make_shop_project(folder: Path) -> Path:
    """An npm app with a Python API: vulnerable pins, loose versions, planted secrets, bad modes."""
    write(folder / "package.json", json.dumps({
        "name": "shop",
        "dependencies": {"lodash": "^4.17.20", "left-pad": "*"},
        "devDependencies": {"minimist": "^1.2.6", "esbuild": "^0.19.0"},
    }, indent=2))
    write(folder / "package-lock.json", json.dumps({
        "name": "shop",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "shop"},
            "node_modules/lodash": {"version": "4.17.20"},
            "node_modules/left-pad": {"version": "1.3.0"},
            "node_modules/minimist": {"version": "1.2.6", "dev": True},
            "node_modules/esbuild": {"version": "0.19.0", "dev": True, "hasInstallScript": True},
        },
    }, indent=2))
    write(folder / "api" / "requirements.txt", "# the API\nurllib3==1.26.16\nrequests==2.31.0\nflask>=2.0\n")
    write(folder / "api" / "settings.py", f'DEBUG = False\nAWS_ACCESS_KEY_ID = "{AWS_ACCESS_KEY}"\n')
    write(folder / "scripts" / "deploy.sh", f"#!/bin/sh\nexport GITHUB_TOKEN={GITHUB_TOKEN}\n", mode=0o755)
    write(folder / "deploy" / "id_rsa", PRIVATE_KEY, mode=0o644)
    write(folder / "public" / "config.json", '{"theme": "dark"}\n', mode=0o777)
    write(folder / "README.md", "# shop\n")
    return folder
