"""``skillworks new NAME``: a skill folder that passes every publish check and scans clean.

It shows the shape of a good marketplace skill: files written only through
``ctx.workspace`` into the target folder, commands only through ``ctx.run`` (argv lists),
no work at import time, a test, and pinned dependencies (none yet).
"""

from __future__ import annotations

import re
from pathlib import Path

from skills.errors import UserMessageError

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

SKILL_MD = """---
id: {id}
name: {title}
version: 0.1.0
category: {category}
description: {title} writes a greeting file into a new project folder
estimated_time: under a minute
estimated_files: "1"
tags: [example]
target: {{path: "{{projectName}}", must: new}}
parameters:
  projectName:
    type: text
    required: true
    pattern: '^[a-z0-9][a-z0-9-]*$'
    description: Folder to create in the workspace
  greeting:
    type: text
    default: Hello
    description: The greeting to write
steps:
  - {{id: create-folder, name: Create Project Folder, critical: true}}
  - {{id: write-greeting, name: Write greeting.txt, critical: true}}
dependencies: {{python: [], npm: []}}
permissions: {{network: false}}
---

# {title}

Describe what the skill does, what it creates, and what each parameter changes.
"""

STEPS_PY = '''"""Steps of {title}: each receives the step context and works only through it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skills.context import StepContext


def create_folder(ctx: StepContext) -> None:
    ctx.workspace.make_dirs(ctx.target)


def write_greeting(ctx: StepContext) -> dict[str, Any]:
    path = ctx.file("greeting.txt")
    ctx.workspace.write_text(path, greeting_text(ctx.params["greeting"], ctx.params["projectName"]))
    return {{"file": path}}


def greeting_text(greeting: str, name: str) -> str:
    return f"{{greeting}}, {{name}}!\\n"
'''

TEST_PY = '''"""Tests of {title}'s own logic (run with pytest from the skill folder)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def load_steps():
    spec = importlib.util.spec_from_file_location("steps", Path(__file__).parent.parent / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_greeting_names_the_project():
    assert load_steps().greeting_text("Hello", "shop") == "Hello, shop!\\n"
'''


def scaffold_skill(name: str, parent: Path, category: str = "productivity") -> Path:
    """Create ``parent/name`` with SKILL.md, steps.py and tests/; refuses to touch an existing folder."""
    if not _ID.match(name):
        raise UserMessageError(f"{name!r} is not a valid skill id.", ["Use 2-63 lowercase letters, digits and hyphens."])
    folder = parent / name
    if folder.exists():
        raise UserMessageError(f"{folder} already exists.", ["Choose another name or folder."])
    title = name.replace("-", " ").title()
    (folder / "tests").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(id=name, title=title, category=category), encoding="utf-8")
    (folder / "steps.py").write_text(STEPS_PY.format(title=title), encoding="utf-8")
    (folder / "tests" / "test_steps.py").write_text(TEST_PY.format(title=title), encoding="utf-8")
    return folder
