"""What went wrong when a step failed, and what to do about it.

A table of rules over real command output (npm, node, git, docker, tsc, eslint, jest,
vitest): each rule names the tools and exit codes it applies to and the regexes that
recognise the failure; its suggestions are templates filled from the regex's named groups
(the port in use, the missing tool, the folder that already exists). Rules are tried in
order, most specific first, and the first match wins. No match gives ``None``: the
error's own message is then the best we have, and a vague guess would only add noise.

    >>> diagnose_output(["git", "status"], 128, "fatal: not a git repository (or any ...)").rule_id
    'git-not-a-repository'
"""

from __future__ import annotations

import errno
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from skills.errors import CommandFailedError

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Diagnosis:
    """A recognised failure: which rule, a one-line title, concrete next steps."""

    rule_id: str
    title: str
    suggestions: list[str]
    evidence: str = ""  # the output line that matched, for the history

    def as_event(self) -> dict[str, object]:
        """The camelCase form carried by ``step_failed`` and ``error`` events."""
        return {"ruleId": self.rule_id, "title": self.title, "suggestions": self.suggestions, "evidence": self.evidence}


@dataclass(frozen=True)
class Rule:
    """One known failure. ``tools`` (argv[0] names) and ``exit_codes`` narrow it; empty means any."""

    id: str
    title: str
    patterns: tuple[str, ...]
    suggestions: tuple[str, ...]
    tools: frozenset[str] = frozenset()
    exit_codes: frozenset[int] = frozenset()
    defaults: Mapping[str, str] = field(default_factory=dict)

    def match(self, tool: str, returncode: int | None, output: str) -> Diagnosis | None:
        if self.tools and tool not in self.tools or self.exit_codes and returncode not in self.exit_codes:
            return None
        for pattern in self.patterns:
            found = re.search(pattern, output, re.MULTILINE)
            if found:
                line_start = output.rfind("\n", 0, found.start()) + 1
                line_end = output.find("\n", found.start())
                evidence = output[line_start : line_end if line_end != -1 else None].strip()
                return self.diagnosis({k: v for k, v in found.groupdict().items() if v}, evidence)
        return None

    def diagnosis(self, groups: Mapping[str, str], evidence: str = "") -> Diagnosis:
        values = {**self.defaults, **groups}
        return Diagnosis(
            self.id, self.title.format_map(values), [s.format_map(values) for s in self.suggestions], evidence
        )


NPM = frozenset({"npm", "npx"})
GIT = frozenset({"git"})
_NPM_NETWORK = "`npm config get registry` and `npm config get proxy` show what npm is using."

RULES: tuple[Rule, ...] = (
    Rule("npm-proxy", "npm's requests are blocked or cut off by a proxy",
         (r"^npm error code E407\b", r"407 Proxy Authentication Required", r"^npm error code ECONNRESET\b"),
         ("Set the proxy with credentials: `npm config set proxy http://user:password@proxy:port` "
          "and `npm config set https-proxy http://user:password@proxy:port`.",
          "If you are not behind a proxy, remove stale settings: `npm config delete proxy` and "
          "`npm config delete https-proxy`; also check the HTTP_PROXY/HTTPS_PROXY variables.",
          _NPM_NETWORK)),
    Rule("npm-tls-intercepted", "npm does not trust the TLS certificate presented for the registry",
         (r"SELF_SIGNED_CERT_IN_CHAIN", r"UNABLE_TO_GET_ISSUER_CERT_LOCALLY", r"UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
         ("A proxy or antivirus is re-signing HTTPS traffic: get its root CA certificate (PEM) "
          "and run `npm config set cafile /path/to/corporate-ca.pem`.",
          "Or set NODE_EXTRA_CA_CERTS=/path/to/corporate-ca.pem for every node process.",
          "Do not set strict-ssl=false: it disables the check for every package you install.")),
    Rule("npm-registry-dns", "The npm registry host name ({host}) does not resolve",
         (r"(?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)", r"^npm error code (?:ENOTFOUND|EAI_AGAIN)\b"),
         ("Check the registry address for typos: `npm config get registry` "
          "(the default is https://registry.npmjs.org/).",
          "Check DNS and connectivity: `nslookup {host}`; on a VPN or behind a proxy, set `npm config set proxy ...`.",
          "Offline? Retry with `--prefer-offline` to use packages already in the npm cache."),
         defaults={"host": "the registry"}),
    Rule("npm-registry-unreachable", "The npm registry ({address}) cannot be reached",
         (r"(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH) (?P<address>\S+:\d+)",
          r"network timeout at: (?P<address>\S+)", r"^npm error code (?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH)\b"),
         ("Check that {address} is up and is the registry you mean: `npm config get registry`.",
          "Behind a firewall or proxy, configure it: `npm config set proxy http://proxy:port` and "
          "`npm config set https-proxy http://proxy:port`.",
          "On a slow network, raise the limits: `npm install --fetch-timeout=600000 --fetch-retries=5`."),
         defaults={"address": "the registry"}),
    Rule("npm-eacces", "npm is not allowed to write {path}",
         (r"EACCES: permission denied, \w+ '(?P<path>[^']+)'", r"^npm error code EACCES\b"),
         ("Check who owns it: `ls -ld {path}`; the project folder should belong to the user running the skill.",
          "If ~/.npm was created by `sudo npm`, fix it: `sudo chown -R $(id -u):$(id -g) ~/.npm`.",
          "Do not run the skill with sudo; for global packages set a user prefix: "
          "`npm config set prefix ~/.npm-global`."),
         defaults={"path": "a file"}),
    Rule("npm-enospc", "The disk filled up while npm was installing packages",
         (r"^npm error code ENOSPC\b", r"^npm warn tar TAR_ENTRY_ERROR ENOSPC"),
         ("Free space on the disk holding the project and the npm cache: `df -h . ~/.npm`.",
          "Clear npm's cache: `npm cache clean --force`, and remove old node_modules folders.",
          "Then delete the half-written node_modules and run the install again.")),
    Rule("npm-peer-conflict", "npm cannot resolve conflicting peer dependencies",
         (r"^npm error peer (?P<peer>\S+) from (?P<dependent>\S+)", r"^npm error code ERESOLVE\b"),
         ("{dependent} needs {peer}: install versions that agree "
          "(`npm view <package> peerDependencies` shows each range).",
          "If you accept the risk, retry with `npm install --legacy-peer-deps`."),
         defaults={"dependent": "A package", "peer": "another version of a peer dependency"}),
    Rule("npm-lockfile-out-of-sync", "package-lock.json does not match package.json",
         (r"`npm ci` can only install packages when your package\.json and package-lock\.json",),
         ("Run `npm install` to update package-lock.json, commit it, then `npm ci` works again.",
          "If package-lock.json was edited by hand or in a merge, delete it and run `npm install`.")),
    Rule("npm-merge-conflict", "package.json or package-lock.json contains git merge conflict markers",
         (r"JSON\.parse .*<{7}", r"Merge conflict detected in your package"),
         ("Resolve the conflict in package.json (remove the <<<<<<< ======= >>>>>>> markers), then run `npm install`.",
          "For package-lock.json, take either side (`git checkout --theirs package-lock.json`) and run "
          "`npm install` to rebuild it.")),
    Rule("npm-package-not-found", "The package {package} is not in the npm registry",
         (r"404 +The requested resource '(?P<package>(?:@[\w.-]+/)?[\w.-]+)", r"^npm error code E404\b"),
         ("Check the spelling: `npm search {package}`.",
          "For a private or scoped package, log in to its registry: `npm login --registry <url>` "
          "and set `@scope:registry` in .npmrc."),
         defaults={"package": "a package"}),
    Rule("engine-too-old", "The installed Node.js or npm is too old (required: {required})",
         (r"Required: (?P<required>\{.*\})", r"requires Node\.js version (?P<required>[^.\s][^\s,]*)",
          r"EBADENGINE|Unsupported engine"),
         ("Install a Node.js version that satisfies {required}: `nvm install --lts` (or your package manager), "
          "then check `node --version`.",
          "Update npm with `npm install -g npm@latest` if the requirement is about npm."),
         defaults={"required": "the package's engines field"}),
    Rule("tool-missing", "The command {tool} is not installed or not on PATH",
         (r"^(?:\S+: )?(?:line )?(?:\d+: )?(?P<tool>[^\s:]+): (?:command )?not found$",
          r"command not found: (?P<tool>\S+)", r"^env: '?(?P<tool>[^\s':]+)'?: No such file or directory"),
         ("Install {tool}; if it is a project dependency, run `npm install` first so node_modules/.bin has it.",
          "Check `command -v {tool}` in the shell that runs skillworks (its PATH may differ from yours)."),
         exit_codes=frozenset({127}), defaults={"tool": "the tool"}),
    Rule("port-in-use", "Port {port} is already in use",
         (r"address already in use (?:\S*:)?(?P<port>\d+)", r"EADDRINUSE|(?i:address already in use)"),
         ("Find what holds it: `lsof -i :{port}` (or `ss -ltnp | grep :{port}`) and stop that process.",
          "Or run on another port, e.g. set PORT or the dev server's --port option."),
         defaults={"port": "<port>"}),
    Rule("docker-permission-denied", "This user may not use the Docker daemon's socket",
         (r"permission denied while trying to connect to the Docker daemon socket",),
         ("Add the user to the docker group: `sudo usermod -aG docker $USER`, then log out and in again.",
          "Or use rootless Docker / Docker Desktop, which does not need the root-owned socket.")),
    Rule("docker-daemon-unreachable", "The Docker daemon is not running or not reachable",
         (r"Cannot connect to the Docker daemon", r"Error while fetching server API version",
          r"docker\.sock.*connection refused"),
         ("Start Docker: `sudo systemctl start docker`, or open Docker Desktop and wait until it is running.",
          "Check DOCKER_HOST and the current context: `docker context ls`; `docker info` must answer.")),
    Rule("git-identity-missing", "git does not know who you are, so it cannot commit",
         (r"Please tell me who you are", r"empty ident name", r"unable to auto-detect email address"),
         ('Set it once: `git config --global user.name "Your Name"` and '
          '`git config --global user.email "you@example.com"`.',), tools=GIT),
    Rule("git-dubious-ownership", "git refuses a repository owned by another user ({path})",
         (r"detected dubious ownership in repository at '(?P<path>[^']+)'",),
         ("If you trust it, allow it: `git config --global --add safe.directory {path}`.",
          "Or give the folder to the user running the skill: `sudo chown -R $(id -u):$(id -g) {path}`."),
         tools=GIT, defaults={"path": "the repository"}),
    Rule("git-not-a-repository", "The folder is not a git repository",
         (r"not a git repository",),
         ("Run `git init` in the project folder first, or run the command inside an existing clone.",),
         tools=GIT),
    Rule("target-exists", "The target {path} already exists",
         (r"destination path '(?P<path>[^']+)' already exists and is not an empty directory",
          r"EEXIST: file already exists, \w+ '(?P<path>[^']+)'", r"^npm error code EEXIST\b"),
         ("Choose another project name or folder, or move {path} aside.",
          "Delete {path} only if you are sure nothing in it is needed."),
         defaults={"path": "the target folder"}),
    Rule("typescript-errors", "TypeScript found type errors",
         (r"^(?P<location>\S+\(\d+,\d+\)): error (?P<code>TS\d+)", r"error (?P<code>TS\d+):"),
         ("Fix the first error ({code} at {location}) and re-run `npx tsc --noEmit`; "
          "later errors often follow from it.",),
         defaults={"code": "TS", "location": "the first file listed"}),
    Rule("eslint-errors", "ESLint reported {errors} error(s)",
         (r"✖ \d+ problems? \((?P<errors>\d+) errors?",),
         ("Run `npx eslint . --fix` for the auto-fixable ones, then fix the rest by hand.",
          "Re-run `npx eslint .` to see each file, line and rule."), defaults={"errors": "some"}),
    Rule("tests-failed", "{failed} test(s) failed",
         (r"^\s*Tests:?\s+(?P<failed>\d+) failed",),
         ("Read the first failure above: the expected and received values and the line.",
          "Re-run just that file in watch mode (`npx vitest <file>` or `npx jest <file> --watch`) while fixing it."),
         defaults={"failed": "Some"}),
    Rule("disk-full", "The disk is full",
         (r"No space left on device", r"\bENOSPC\b"),
         ("Free space on the disk holding the workspace: `df -h .`, then `du -sh * | sort -h` to find what is big.",
          "Remove build outputs, old node_modules and `docker system prune` if Docker images fill the disk.")),
    Rule("permission-denied", "Permission denied",
         (r"(?:cannot \w+|open|mkdir|write)\s+'?(?P<path>[^':\s]+)'?: Permission denied", r"Permission denied|EACCES"),
         ("Check who owns {path}: `ls -ld {path}`; run skills as the user who owns the workspace, not via sudo.",
          "Fix ownership if needed: `sudo chown -R $(id -u):$(id -g) <workspace>`."),
         defaults={"path": "the folder"}),
    Rule("network-timeout", "A network operation timed out",
         (r"Operation too slow|Connection timed out|Operation timed out|\bETIMEDOUT\b|network timeout",),
         ("Check the connection and any proxy (HTTP_PROXY/HTTPS_PROXY), then retry.",
          "On a slow network, raise the step's timeout and the tool's own (git: `http.lowSpeedTime`).")),
)

TIMED_OUT = Rule("timed-out", "The command took longer than the step's timeout and was stopped", (),
                 ("Retry: a slow network or a cold npm cache often explains a first timeout.",
                  "If it is expected to be slow, raise the step's timeout in the skill's SKILL.md.",
                  "Run the command by hand in the target folder to see where it hangs."))
_BY_ID = {rule.id: rule for rule in (*RULES, TIMED_OUT)}


def diagnose_output(argv: Sequence[str], returncode: int | None, output: str) -> Diagnosis | None:
    """Classify a command's merged output; ``returncode`` None means it timed out."""
    tool = PurePath(str(argv[0])).name if argv else ""
    text = _ANSI.sub("", output)
    for rule in RULES:
        found = rule.match(tool, returncode, text)
        if found:
            return found
    return TIMED_OUT.diagnosis({}) if returncode is None else None


def diagnose(error: BaseException) -> Diagnosis | None:
    """Diagnose a step's exception, following ``raise ... from`` causes.

    Handles ``CommandFailedError`` (via its output), a missing executable
    (``FileNotFoundError`` for a bare program name), ``PermissionError``, ENOSPC,
    EADDRINUSE and ``TimeoutError``.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _diagnose_one(current)
        if found:
            return found
        current = current.__cause__ or current.__context__
    return None


def _diagnose_one(error: BaseException) -> Diagnosis | None:
    if isinstance(error, CommandFailedError):
        return diagnose_output(error.argv, error.returncode, error.output)
    if isinstance(error, TimeoutError):
        return TIMED_OUT.diagnosis({}, str(error))
    name = str(getattr(error, "filename", None) or "")
    if isinstance(error, FileNotFoundError) and name and "/" not in name:
        return _BY_ID["tool-missing"].diagnosis({"tool": name}, str(error))
    if isinstance(error, PermissionError):
        return _BY_ID["permission-denied"].diagnosis({"path": name} if name else {}, str(error))
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return _BY_ID["disk-full"].diagnosis({}, str(error))
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return _BY_ID["port-in-use"].diagnosis({}, str(error))
    return None
