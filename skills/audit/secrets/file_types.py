"""What a file is, for the secret scan: which detectors apply, and what its well-known names mean.

A ``.env`` file writes values unquoted, a Python module does not (``password = other``
there is a variable); a lockfile is full of hashes that are public; ``SECRET_KEY`` in a
Django settings module is *the* Django secret key, ``APP_KEY`` in a ``.env`` is Laravel's.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Files whose values are written unquoted (KEY=value, key: value).
_CONFIG_SUFFIXES = frozenset({
    ".env", ".ini", ".cfg", ".conf", ".properties", ".yaml", ".yml", ".toml", ".sh", ".bash", ".zsh", ".ksh",
    ".envrc", ".tfvars", ".hcl", ".tf", ".cnf", ".config", ".plist", ".service", ".prefs", ".rc", ".bat", ".cmd", ".ps1",
    ".txt",
})
_CONFIG_NAMES = frozenset({
    ".bashrc", ".bash_profile", ".zshrc", ".zprofile", ".profile", ".zshenv", ".bash_login", ".kshrc", ".envrc",
    "dockerfile", "credentials", "config", ".s3cfg", ".boto", ".pypirc", ".my.cnf", "environment", "procfile",
    ".gitconfig", ".env", "gradle.properties", ".tool-versions",
})
# Generated files full of public hashes: only provider rules and private keys apply.
_GENERATED_NAMES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock", "pipfile.lock",
    "cargo.lock", "go.sum", "composer.lock", "gemfile.lock", "pdm.lock", "packages.lock.json", "bun.lockb", "flake.lock",
})
_GENERATED_SUFFIXES = (".min.js", ".min.css", ".map", ".svg", ".lock", ".sum", ".snap")
# Documentation: examples there are examples; only provider-format tokens and keys are believed.
_DOC_SUFFIXES = frozenset({".md", ".rst", ".adoc", ".html", ".htm"})


@dataclass(frozen=True)
class FrameworkNames:
    """What names mean in one kind of file: ``{NAME: finding kind}`` for files matching ``patterns``."""

    patterns: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)


FRAMEWORK_NAMES: tuple[FrameworkNames, ...] = (
    FrameworkNames(("*settings*.py", "*/settings/*.py"), {"SECRET_KEY": "Django Secret Key"}),
    FrameworkNames(("*config*.py",), {"SECRET_KEY": "Flask Secret Key"}),
    FrameworkNames(("wp-config*.php",), {
        "DB_PASSWORD": "WordPress Database Password",
        **{name: "WordPress Auth Key or Salt" for name in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT",
            "NONCE_SALT",
        )},
    }),
    FrameworkNames((".env", ".env.*", "*.env"), {
        "APP_KEY": "Laravel App Key", "SECRET_KEY_BASE": "Rails Secret Key Base", "SECRET_KEY": "Framework Secret Key",
        "DJANGO_SECRET_KEY": "Django Secret Key", "NEXTAUTH_SECRET": "NextAuth Secret", "JWT_SECRET": "JWT Signing Secret",
        "SESSION_SECRET": "Session Secret",
    }),
    FrameworkNames(("*secrets.yml", "*credentials.yml"), {"SECRET_KEY_BASE": "Rails Secret Key Base"}),
    FrameworkNames(("robomongo.json", "robo3t.json", "*robo*3t*.json"), {
        "USERPASSWORD": "Robomongo Saved Password", "SSHUSERPASSWORD": "Robomongo Saved Password",
        "SSHPASSPHRASE": "Robomongo Saved Password",
    }),
    FrameworkNames((".s3cfg",), {"SECRET_KEY": "S3cmd Secret Key"}),
    FrameworkNames(("*kubeconfig*", "*.kube/config"), {"CLIENT-KEY-DATA": "Kubernetes Client Key", "TOKEN": "Kubernetes Token"}),
    FrameworkNames(("gradle.properties", "*.gradle", "keystore.properties"), {
        "STOREPASSWORD": "Android Keystore Password", "KEYPASSWORD": "Android Keystore Password",
    }),
    FrameworkNames((".pypirc",), {"PASSWORD": "PyPI Upload Password"}),
    FrameworkNames(("application*.properties", "application*.yml", "application*.yaml"), {
        "SPRING.DATASOURCE.PASSWORD": "Spring Datasource Password",
    }),
)


@dataclass(frozen=True)
class FileProfile:
    config_syntax: bool  # values may be written unquoted
    generated: bool  # lockfiles, minified bundles: only provider rules and keys
    documentation: bool
    names: dict[str, str]


def file_profile(path: str) -> FileProfile:
    """How the secret scan reads the file at ``path`` (relative to the project).

    >>> file_profile("app/.env.production").config_syntax, file_profile("yarn.lock").generated
    (True, True)
    """
    posix = PurePosixPath(path)
    name = posix.name.lower()
    suffix = posix.suffix.lower()
    names: dict[str, str] = {}
    for framework in FRAMEWORK_NAMES:
        if any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(path.lower(), pattern) for pattern in framework.patterns):
            names.update(framework.names)
    return FileProfile(
        config_syntax=(
            suffix in _CONFIG_SUFFIXES or name in _CONFIG_NAMES or name.startswith(".env") or name.endswith(".env")
            or not suffix
        ),
        generated=name in _GENERATED_NAMES or name.endswith(_GENERATED_SUFFIXES),
        documentation=suffix in _DOC_SUFFIXES,
        names=names,
    )
