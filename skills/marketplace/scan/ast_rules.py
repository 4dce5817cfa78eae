"""Our own rules for what a skill's Python must not do, read from its syntax tree.

A skill does its work through the ``StepContext`` it is given: files through
``ctx.workspace`` (confined, journaled, undoable), commands through ``ctx.run`` (an argv
list, journaled, killed on timeout). So code that spawns processes itself, writes files
around the workspace, runs shell strings, evaluates data as code, works at import time, or
reads credentials is out of place in a skill, and some of it is how malware looks:

| rule | severity |
| --- | --- |
| obfuscated-exec: eval/exec/compile of decoded data (base64, zlib, hex, marshal...) | critical |
| import-time-side-effect: network, process, exec or file work at module level | critical |
| download-and-execute: a package that downloads and also runs code or processes | critical |
| credential-exfiltration: a package that reads credentials and also uses the network | critical |
| shell-string: os.system/popen, shell=True, a string or ``sh -c`` given to ctx.run | high |
| dynamic-code: eval/exec/compile/__import__ of non-literal data | high |
| process-outside-workspace: subprocess, os.exec*, os.spawn*, pty, multiprocessing | high |
| write-outside-workspace: open(..., "w"), Path.write_*, os/shutil file changes | high |
| credential-access: os.environ, ~/.ssh, ~/.aws/credentials, .netrc, ... | high |
| network-undeclared: network use without ``permissions: {network: true}`` | medium |
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from skills.definition import SkillDefinition
from skills.marketplace.scan.report import ScanFinding, Severity, line_excerpt

NETWORK_MODULES = ("socket", "urllib.request", "urllib3", "http.client", "requests", "httpx", "aiohttp", "ftplib",
                   "smtplib", "telnetlib", "paramiko", "websocket", "websockets", "dns.resolver")
NETWORK_CALLS = ("urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.request.Request")
PROCESS_CALLS = ("subprocess.", "os.exec", "os.spawn", "os.fork", "os.posix_spawn", "pty.spawn", "multiprocessing.",
                 "os.startfile", "asyncio.create_subprocess")
SHELL_CALLS = ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput", "commands.getoutput")
DYNAMIC_CALLS = ("eval", "exec", "compile", "builtins.eval", "builtins.exec", "builtins.compile")
IMPORT_CALLS = ("__import__", "importlib.import_module", "importlib.__import__")
DECODE_CALLS = ("b64decode", "b32decode", "b16decode", "b85decode", "a85decode", "urlsafe_b64decode", "decodebytes",
                "decompress", "unhexlify", "fromhex", "codecs.decode", "marshal.loads", "pickle.loads", "rot13", "zlib.decompress")
WRITE_FUNCTIONS = ("os.remove", "os.unlink", "os.rename", "os.replace", "os.makedirs", "os.mkdir", "os.rmdir", "os.chmod",
                   "os.chown", "os.symlink", "os.link", "os.truncate", "os.removedirs", "shutil.rmtree", "shutil.copy",
                   "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.chown")
WRITE_METHODS = {"write_text", "write_bytes", "unlink", "rmdir", "touch", "chmod", "symlink_to", "hardlink_to", "rename", "mkdir"}
ENVIRONMENT = ("os.environ", "os.environb", "os.getenv", "os.getenvb", "os.putenv")
# A credential file in someone's home (a project's own .npmrc or .dockerignore is not one).
CREDENTIAL_PATHS = re.compile(
    r"((~|\$HOME|/home/[^/\s]+|/root)/(\.ssh|\.aws|\.netrc|\.npmrc|\.pypirc|\.docker/config\.json|\.kube|\.gnupg|"
    r"\.git-credentials|\.bash_history|\.config/gcloud|\.local/share/keyrings)|\bid_(rsa|ed25519|ecdsa)\b|/etc/shadow)"
)
DOWNLOAD_EXEC = re.compile(r"(curl|wget)\b[^|;&]*\|\s*(ba|z|da)?sh\b|(curl|wget)\b.*(&&|;)\s*(ba)?sh\b|\|\s*python", re.I)
CONTEXT_NAMES = {"ctx", "context"}


@dataclass
class _ModuleFacts:
    findings: list[ScanFinding] = field(default_factory=list)
    network: list[ScanFinding] = field(default_factory=list)
    credentials: list[ScanFinding] = field(default_factory=list)
    executes: list[ScanFinding] = field(default_factory=list)


def ast_findings(folder: Path, definition: SkillDefinition) -> list[ScanFinding]:
    """Every rule over every ``.py`` file of the package (tests included: they may run too)."""
    facts = _ModuleFacts()
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder).as_posix()
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(source, filename=relative)
        except SyntaxError as exc:
            facts.findings.append(ScanFinding(scanner="ast-rules", rule="unparsable-python", severity="high", file=relative,
                                              line=exc.lineno, message=f"does not parse, so cannot be checked: {exc.msg}"))
            continue
        _FileScanner(relative, source, facts).visit(tree)
    return _package_level(facts, definition)


def _package_level(facts: _ModuleFacts, definition: SkillDefinition) -> list[ScanFinding]:
    """Rules over the package as a whole: attacks split one half per file still meet here."""
    findings = list(facts.findings)
    if facts.network and facts.credentials:
        findings += [_escalate(f, "credential-exfiltration", "reads credentials and the package also uses the network")
                     for f in facts.credentials]
    if facts.network and facts.executes:
        findings += [_escalate(f, "download-and-execute", "runs code or processes and the package also downloads")
                     for f in facts.executes]
    if not definition.permissions.network:
        findings += [f.model_copy(update={"rule": "network-undeclared", "severity": "medium",
                                          "message": f"{f.message}; SKILL.md does not declare permissions: {{network: true}}"})
                     for f in facts.network]
    return findings


def _escalate(finding: ScanFinding, rule: str, why: str) -> ScanFinding:
    return finding.model_copy(update={"rule": rule, "severity": "critical", "message": f"{finding.message}; {why}"})


class _FileScanner(ast.NodeVisitor):
    def __init__(self, file: str, source: str, facts: _ModuleFacts) -> None:
        self.file = file
        self.source = source
        self.facts = facts
        self.aliases: dict[str, str] = {}  # local name -> dotted name it was imported as
        self.decoded: set[str] = set()  # names assigned from decoded data
        self.context_names: set[str] = set()  # names bound to the step context or its parts
        self.depth = 0  # > 0 inside a function body: not run at import

    # imports and scopes

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{node.module or ''}.{alias.name}".lstrip(".")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)  # decorators run at import
        outer = set(self.context_names)
        for argument in node.args.args + node.args.kwonlyargs:
            annotation = ast.unparse(argument.annotation) if argument.annotation else ""
            if argument.arg in CONTEXT_NAMES or "StepContext" in annotation or "Workspace" in annotation:
                self.context_names.add(argument.arg)
        self.depth += 1
        for statement in node.body:
            self.visit(statement)
        self.depth -= 1
        self.context_names = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_If(self, node: ast.If) -> None:
        if ast.unparse(node.test).replace("'", '"') == '__name__ == "__main__"':
            return  # runs only as a script, never on import
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [target.id for target in node.targets if isinstance(target, ast.Name)]
        if self._contains_decode(node.value):
            self.decoded.update(names)
        if self._rooted_at_context(node.value):
            self.context_names.update(names)
        self.generic_visit(node)

    # calls

    def visit_Call(self, node: ast.Call) -> None:
        name = self._dotted(node.func)
        self._check_call(node, name)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._dotted(node.value) in ENVIRONMENT:
            self._credential(node, "reads the environment")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if CREDENTIAL_PATHS.search(node.value):
                self._credential(node, f"names a credential file ({CREDENTIAL_PATHS.search(node.value).group(0)})")  # type: ignore[union-attr]
            if DOWNLOAD_EXEC.search(node.value):
                self._add(node, "download-and-execute", "critical", "a command that downloads and pipes into a shell")

    def _check_call(self, node: ast.Call, name: str) -> None:
        if name in DYNAMIC_CALLS or name in IMPORT_CALLS:
            self._dynamic(node, name)
        elif name in SHELL_CALLS:
            self._add(node, "shell-string", "high", f"{name}() runs a shell string")
            self._process(node, name)
        elif name.startswith(PROCESS_CALLS):
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value) for k in node.keywords):
                self._add(node, "shell-string", "high", f"{name}(shell=True) runs a shell string")
            self._process(node, name)
        elif name in NETWORK_CALLS or name.startswith(tuple(f"{m}." for m in NETWORK_MODULES)):
            self._network(node, name)
        elif name in WRITE_FUNCTIONS:
            self._write(node, f"{name}() changes files outside the workspace")
        elif name in ("getattr", "builtins.getattr") and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self._add(node, "dynamic-code", "high", "getattr() with a computed name hides what is called")
        elif name in ("os.getenv", "os.getenvb") or name.startswith(("os.environ.", "os.environb.")) or name in ("dict", "os.environ.copy") and any(self._dotted(a) in ENVIRONMENT for a in node.args):
            self._credential(node, "reads the environment")
        elif name in ("pathlib.Path.home", "os.path.expanduser", "Path.home"):
            self._credential(node, f"{name}() reaches into the user's home")
        elif name == "open" or name.endswith(".open") and not self._rooted_at_context(node.func):
            if self._write_mode(node):
                self._write(node, "open() for writing bypasses the workspace")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS and not self._rooted_at_context(node.func.value):
            self._write(node, f".{node.func.attr}() changes files outside the workspace")
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "run" and self._rooted_at_context(node.func.value):
            self._context_run(node)

    def _dynamic(self, node: ast.Call, name: str) -> None:
        argument = node.args[0] if node.args else None
        if argument is None or isinstance(argument, ast.Constant):
            return
        if self._contains_decode(argument) or any(isinstance(n, ast.Name) and n.id in self.decoded for n in ast.walk(argument)):
            finding = self._add(node, "obfuscated-exec", "critical", f"{name}() of decoded data: hidden code")
        else:
            finding = self._add(node, "dynamic-code", "high", f"{name}() of data computed at run time")
        self.facts.executes.append(finding)
        self._at_import(node, f"{name}() at import time")

    def _process(self, node: ast.Call, name: str) -> None:
        finding = self._add(node, "process-outside-workspace", "high", f"{name}() starts a process; use ctx.run(argv)")
        self.facts.executes.append(finding)
        self._at_import(node, f"{name}() at import time")

    def _network(self, node: ast.Call, name: str) -> None:
        finding = ScanFinding(scanner="ast-rules", rule="network", severity="info", file=self.file, line=node.lineno,
                              excerpt=line_excerpt(self.source, node.lineno), message=f"{name}() uses the network")
        self.facts.network.append(finding)
        self.facts.findings.append(finding)
        self._at_import(node, f"{name}() at import time")

    def _write(self, node: ast.AST, message: str) -> None:
        self._add(node, "write-outside-workspace", "high", f"{message}; use ctx.workspace")
        self._at_import(node, "writes files at import time")

    def _credential(self, node: ast.AST, message: str) -> None:
        finding = self._add(node, "credential-access", "high", message)
        self.facts.credentials.append(finding)
        self._at_import(node, f"{message} at import time")

    def _context_run(self, node: ast.Call) -> None:
        argv = node.args[0] if node.args else None
        if isinstance(argv, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            self._add(node, "shell-string", "high", "ctx.run() takes an argv list, not a command string")
        elif isinstance(argv, (ast.List, ast.Tuple)) and len(argv.elts) >= 2:
            first, second = (ast.unparse(e).strip("'\"") for e in argv.elts[:2])
            if first.rsplit("/", 1)[-1] in ("sh", "bash", "zsh", "dash") and second == "-c":
                self._add(node, "shell-string", "high", f"ctx.run([{first!r}, '-c', ...]) runs a shell string")

    def _at_import(self, node: ast.AST, message: str) -> None:
        if self.depth == 0:
            self._add(node, "import-time-side-effect", "critical", f"{message}: runs as soon as the skill is loaded")

    def _add(self, node: ast.AST, rule: str, severity: Severity, message: str) -> ScanFinding:
        line = getattr(node, "lineno", None)
        finding = ScanFinding(scanner="ast-rules", rule=rule, severity=severity, file=self.file, line=line,
                              excerpt=line_excerpt(self.source, line), message=message)
        self.facts.findings.append(finding)
        return finding

    # helpers

    def _dotted(self, node: ast.AST) -> str:
        """``o.system`` -> ``os.system`` through import aliases; ``__import__('os').system`` too."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return f"{self._dotted(node.value)}.{node.attr}"
        if isinstance(node, ast.Call) and self._dotted(node.func) in IMPORT_CALLS and node.args:
            if isinstance(node.args[0], ast.Constant):
                return str(node.args[0].value)
        return ""

    def _contains_decode(self, node: ast.AST) -> bool:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                name = self._dotted(inner.func)
                if name.endswith(DECODE_CALLS) or name.split(".")[-1] in DECODE_CALLS:
                    return True
        return False

    def _rooted_at_context(self, node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return isinstance(node, ast.Name) and node.id in self.context_names

    @staticmethod
    def _write_mode(node: ast.Call) -> bool:
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
        if mode is None:
            return False
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
            return any(flag in mode.value for flag in "wax+")
        return True  # a computed mode: assume the worst
