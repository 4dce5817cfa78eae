"""React Project Setup for real: install from the npm registry, then build, lint and test.

npm's cache lives in ``<repo>/.cache/npm`` (git-ignored), so only the first run downloads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from skills.catalog import load_builtin_catalog
from tests.skill_runner import dry_run, execute_steps, files_on_disk

NPM_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "npm"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("use_typescript", "styling", "persona"),
    [
        (True, "Tailwind CSS", "full-stack"),
        (False, "Styled Components", "security"),
        (True, "CSS Modules", "ai-engineer"),
    ],
)
def test_generated_project_builds_lints_and_passes_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_typescript: bool, styling: str, persona: str
) -> None:
    monkeypatch.setenv("npm_config_cache", str(NPM_CACHE))
    skill = load_builtin_catalog().get("react-setup")
    values = {"projectName": "real-app", "useTypescript": use_typescript, "styling": styling, "testing": True}
    plan = dry_run(skill, values, persona, tmp_path)

    execution = execute_steps(skill, values, persona, tmp_path)

    project = tmp_path / "real-app"
    assert set(plan.files) == execution.files == files_on_disk(project)
    assert "real-app/package-lock.json" in plan.files
    for script in ("build", "lint", "test"):
        completed = subprocess.run(["npm", "run", script], cwd=project, capture_output=True, text=True, timeout=300)
        assert completed.returncode == 0, f"npm run {script} failed:\n{completed.stdout}\n{completed.stderr}"
