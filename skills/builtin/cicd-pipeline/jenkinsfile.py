"""The structure of a declarative Jenkinsfile, checked as Jenkins' declarative validator does.

A Groovy parse (npm-groovy-lint) proves the file is Groovy; this proves it is a declarative
*pipeline*: one ``pipeline`` block with an ``agent`` and ``stages``, every ``stage`` named and
holding exactly one of ``steps``, ``stages``, ``parallel`` or ``matrix``, only known sections
in each place, and ``post`` blocks using known conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PIPELINE_SECTIONS = {"agent", "environment", "options", "parameters", "triggers", "tools", "stages", "post", "libraries"}
STAGE_SECTIONS = {"agent", "environment", "options", "when", "steps", "post", "tools", "input", "stages", "parallel", "matrix", "failFast"}
STAGE_BODIES = {"steps", "stages", "parallel", "matrix"}
AGENT_KINDS = {"any", "none", "label", "node", "docker", "dockerfile", "kubernetes"}
POST_CONDITIONS = {
    "always", "changed", "fixed", "regression", "aborted", "failure", "success", "unstable", "unsuccessful", "cleanup",
}

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)
      |(?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")
      |(?P<word>[A-Za-z_$][\w$]*)
      |(?P<open>\{)|(?P<close>\})|(?P<paren>[(\[])|(?P<endparen>[)\]])
      |(?P<end>[\n;])
      |(?P<other>\S)""",
    re.DOTALL | re.VERBOSE,
)


@dataclass
class Section:
    """A ``name(arguments) { … }`` block, or a one-line statement (``agent any``) when not ``block``."""

    name: str
    line: int
    block: bool
    argument: str = ""  # the first string argument, if any: a stage's name
    words: list[str] = field(default_factory=list)  # what follows the name on a statement line
    children: list[Section] = field(default_factory=list)


def parse_sections(text: str) -> Section:
    """The tree of blocks and statements in ``text`` (strings and comments skipped)."""
    root = Section("<file>", 1, True)
    stack = [root]
    current: Section | None = None  # the statement being read
    depth = 0  # open ( or [: braces inside them are closures, not sections
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        line = text.count("\n", 0, match.start()) + 1
        if kind == "comment":
            continue
        if kind == "paren":
            depth += 1
        elif kind == "endparen":
            depth = max(depth - 1, 0)
        elif kind == "open":
            block = current or Section("<closure>", line, True)
            block.block = True
            if current is None:
                stack[-1].children.append(block)
            stack.append(block)
            current = None
        elif kind == "close":
            if len(stack) > 1:
                stack.pop()
            current = None
        elif kind == "end" and depth == 0:
            current = None
        elif current is None and kind == "word":
            current = Section(value, line, False)
            stack[-1].children.append(current)
        elif current is not None and kind == "string" and not current.argument:
            current.argument = value.strip("'\"")
            current.words.append(current.argument)
        elif current is not None and kind == "word":
            current.words.append(value)
    return root


def check_declarative(text: str) -> list[tuple[int, str]]:
    """Problems with the declarative structure of a Jenkinsfile, as ``(line, message)``."""
    root = parse_sections(text)
    problems: list[tuple[int, str]] = []
    pipelines = [s for s in root.children if s.name == "pipeline" and s.block]
    if len(pipelines) != 1:
        return [(1, f"a declarative Jenkinsfile holds exactly one `pipeline {{ }}` block, found {len(pipelines)}")]
    pipeline = pipelines[0]
    _check_names(pipeline, PIPELINE_SECTIONS, "pipeline", problems)
    if not _named(pipeline, "agent"):
        problems.append((pipeline.line, "`pipeline` needs an `agent` (use `agent none` to choose one per stage)"))
    _check_agents(pipeline, problems)
    _check_stages_holder(pipeline, "pipeline", problems)
    _check_post(pipeline, problems)
    return problems


def _check_stages_holder(owner: Section, where: str, problems: list[tuple[int, str]]) -> None:
    holders = _named(owner, "stages")
    if len(holders) != 1 or not holders[0].block:
        problems.append((owner.line, f"`{where}` needs exactly one `stages {{ }}` block"))
        return
    stages = holders[0].children
    if not stages:
        problems.append((holders[0].line, "`stages` needs at least one `stage`"))
    for stage in stages:
        if stage.name != "stage" or not stage.block:
            problems.append((stage.line, f"`stages` may only hold `stage('name') {{ }}` blocks, not `{stage.name}`"))
            continue
        _check_stage(stage, problems)


def _check_stage(stage: Section, problems: list[tuple[int, str]]) -> None:
    label = f"stage '{stage.argument}'" if stage.argument else "stage"
    if not stage.argument:
        problems.append((stage.line, "a `stage` needs a name: `stage('Build') { … }`"))
    _check_names(stage, STAGE_SECTIONS, label, problems)
    bodies = [s for s in stage.children if s.name in STAGE_BODIES]
    if len(bodies) != 1:
        problems.append((stage.line, f"{label} needs exactly one of `steps`, `stages`, `parallel` or `matrix`"))
    for body in bodies:
        if body.name == "steps" and not body.children:
            problems.append((body.line, f"`steps` of {label} is empty"))
        if body.name == "stages":
            _check_stages_holder(stage, label, problems)
    _check_agents(stage, problems)
    _check_post(stage, problems)


def _check_agents(owner: Section, problems: list[tuple[int, str]]) -> None:
    for agent in _named(owner, "agent"):
        kinds = [child.name for child in agent.children] if agent.block else agent.words[:1]
        if len(kinds) != 1 or kinds[0] not in AGENT_KINDS:
            problems.append((agent.line, f"`agent` takes one of {', '.join(sorted(AGENT_KINDS))}"))


def _check_post(owner: Section, problems: list[tuple[int, str]]) -> None:
    for post in _named(owner, "post"):
        for condition in post.children:
            if condition.name not in POST_CONDITIONS:
                problems.append((condition.line, f"`post` has no condition `{condition.name}`"))


def _check_names(owner: Section, allowed: set[str], where: str, problems: list[tuple[int, str]]) -> None:
    for child in owner.children:
        if child.name not in allowed:
            problems.append((child.line, f"`{child.name}` is not allowed directly in `{where}`"))
    for name in allowed - {"stages"}:
        if len(_named(owner, name)) > 1:
            problems.append((owner.line, f"`{where}` has more than one `{name}`"))


def _named(owner: Section, name: str) -> list[Section]:
    return [child for child in owner.children if child.name == name]
