"""Fixture projects and advisory data for the security-audit tests, made in temporary folders.

Planted secrets are assembled at run time, so this repository never holds a literal key
that secret scanners (ours included) would flag.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# A real snapshot of PyPA's advisory database (OSV YAML), kept beside the checkout.
_PYPA_ADVISORIES = Path(__file__).resolve().parents[2] / "shared" / "advisories" / "pypi"

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


def pypa_advisories() -> Path:
    """The snapshot; a test that needs it fails saying what to do when it is not beside the checkout."""
    if not _PYPA_ADVISORIES.is_dir():
        pytest.fail(
            f"PyPA's advisory snapshot is not at {_PYPA_ADVISORIES}: run the tests from a checkout "
            "that sits beside `shared/` (as CI's does).", pytrace=False,
        )
    return _PYPA_ADVISORIES


def write_advisory_db(root: Path, pypi: bool = True, npm: bool = True) -> Path:
    """A local OSV database: PyPA's snapshot linked in as ``pypi/``, the npm records written as ``npm/<pkg>/<id>.json``."""
    root.mkdir(parents=True, exist_ok=True)
    if pypi:
        (root / "pypi").symlink_to(pypa_advisories(), target_is_directory=True)
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


# One line per JS/TS rule that must fire, and lines that look alike but must not.
VULNERABLE_JS = """\
const { exec, execFile } = require("child_process");
const cp = require("node:child_process");
const crypto = require("crypto");
const jwt = require("jsonwebtoken");
const SIGNING_SECRET = "dev-signing-secret-1";
const lookup = /^user:(\\d+)$/;

app.get("/files", (req, res) => exec(`ls ${req.query.dir}`));
app.get("/zip", (req, res) => cp.spawn("sh", ["-c", "zip -r out.zip " + req.query.dir], { shell: true }));
app.get("/user", (req, res) => db.query("SELECT * FROM users WHERE id = " + req.query.id));
const sql = `DELETE FROM sessions WHERE token = '${req.body.token}'`;
pool.query(sql);
app.post("/calc", (req, res) => res.send(String(eval(req.body.expression))));
https.get({ host: "api.partner.example", rejectUnauthorized: false });
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
const digest = crypto.createHash("md5").update(password).digest("hex");
const cipher = crypto.createCipheriv("des-ede3-cbc", key, iv);
const token = jwt.sign({ sub: user.id }, SIGNING_SECRET);
jwt.verify(incoming, process.env.JWT_SECRET, { algorithms: ["none"] });
element.innerHTML = req.query.message;

lookup.exec(input);
execFile("ls", ["-la", dir]);
exec("git status");
pool.query("SELECT * FROM users WHERE id = $1", [req.query.id]);
eval("2 + 2");
crypto.createHash("sha256").update(body);
crypto.createCipheriv("aes-256-gcm", key, iv);
jwt.sign({ sub: user.id }, process.env.JWT_SECRET);
element.textContent = req.query.message;
"""

VULNERABLE_TSX = """\
import React from "react";

export const Comment = ({ html }: { html: string }) => <div dangerouslySetInnerHTML={{ __html: html }} />;
export const Banner = () => <div dangerouslySetInnerHTML={{ __html: "<b>Sale</b>" }} />;
"""

VULNERABLE_PY = """\
import subprocess
import yaml


def run(command):
    return subprocess.call(command, shell=True)


def load(text):
    return yaml.load(text)
"""


def make_polyglot_project(folder: Path) -> Path:
    """A Django 3.0 API with a Node front: vulnerable code in both languages, an EOL line, a repeated secret."""
    write(folder / "requirements.txt", "Django==3.0.14\nPyYAML==5.1\n")
    write(folder / "server" / "app.js", VULNERABLE_JS)
    write(folder / "web" / "Comment.tsx", VULNERABLE_TSX)
    write(folder / "api" / "tasks.py", VULNERABLE_PY)
    write(folder / "deploy" / "env.sh", f"export GITHUB_TOKEN={GITHUB_TOKEN}\ncurl -H 'Authorization: token {GITHUB_TOKEN}' x\n")
    return folder
