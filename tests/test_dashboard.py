"""The dashboard (``GET /``) in a real browser (``tests/browser.py``) against the real facade,
Prefect and skills."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser import needs_chromium

RUN_SECONDS = 120

pytestmark = needs_chromium


@contextmanager
def dashboard(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh tab on the dashboard; fails the test on any uncaught script error."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def page(browser: Browser, facade: str) -> Iterator[Page]:
    with dashboard(browser, facade) as page:
        yield page


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def configure_react(page: Page, name: str, level: str) -> None:
    page.get_by_role("button", name=re.compile("React Project Setup")).click()
    page.get_by_label("Project name").fill(name)
    page.get_by_label("Run npm install").uncheck()
    page.get_by_label(level, exact=True).check()


def fact(container: Locator, label: str) -> Locator:
    """The value shown for ``label`` in a list of facts."""
    return container.locator(f"dt:text-is('{label}') + dd")


def test_sidebar_groups_skills_by_category_with_their_estimated_time(page: Page, facade: str) -> None:
    skills = httpx.get(f"{facade}/api/skill-metadata").json()["skills"]

    sidebar = page.get_by_role("complementary", name="Skills")
    for skill in skills:
        button = sidebar.locator(f"button[data-skill='{skill['id']}']")
        expect(button).to_contain_text(skill["name"])
        expect(button).to_contain_text(skill["estimatedTime"])
    # The test session also serves its fixture skills, in a category of their own.
    expect(sidebar.get_by_role("heading")).to_have_text(["Frontend", "DevOps", "Backend", "Security", "CI/CD", "Testing"])


def test_dry_run_then_execute_creates_the_project_and_lists_it_in_history(page: Page, facade: str, workspace: Path, tmp_path: Path) -> None:
    name = unique("dashboard")
    configure_react(page, name, "Expert")
    expect(page.get_by_label("Choose styling framework")).to_contain_text("Tailwind CSS (recommended)")

    page.get_by_role("button", name="Dry Run").click()

    preview = page.locator("#preview")
    expect(preview).to_contain_text("All validations passed")
    planned = httpx.post(f"{facade}/api/validate-skill", json={
        "skillId": "react-setup", "parameters": {"projectName": name, "installDependencies": False}, "level": "expert",
    }).json()["dryRunPreview"]
    expect(preview.locator("#plan-files li")).to_have_text(planned["files"])
    expect(preview.locator(".plan-step.skipped")).to_have_count(0)
    page.screenshot(path=tmp_path / "dry-run.png", full_page=True)

    page.get_by_role("button", name="Execute Skill").click()

    completion = page.locator(".completion")
    expect(completion).to_be_visible(timeout=RUN_SECONDS * 1000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    token = completion.locator(".rollback-token").inner_text()
    assert re.fullmatch(r"rollback-[0-9a-f-]{36}", token)
    expect(fact(completion, "Files created")).to_have_text(str(len(planned["files"])))
    expect(fact(completion, "Output")).to_have_text(str(workspace / name))
    expect(completion.get_by_role("link", name="Open in Prefect UI")).to_have_attribute("href", re.compile(r"/runs/flow-run/"))
    expect(page.locator(".step.completed")).to_have_count(len([s for s in planned["steps"] if s["status"] == "run"]))
    assert (workspace / name / "package.json").is_file()
    page.screenshot(path=tmp_path / "completed.png", full_page=True)

    page.get_by_role("tab", name="History").click()

    row = page.locator(f"tr[data-execution='{token.removeprefix('rollback-')}']")
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text("React Project Setup")
    expect(row.get_by_role("link", name="run")).to_have_attribute("href", re.compile(r"/runs/flow-run/"))
    page.screenshot(path=tmp_path / "history.png", full_page=True)


def test_rollback_from_history_deletes_what_the_execution_created(page: Page, facade: str, workspace: Path) -> None:
    name = unique("dashboard-undo")
    configure_react(page, name, "Expert")
    page.get_by_role("button", name="Execute Skill").click()
    token = page.locator(".completion .rollback-token")
    expect(token).to_be_visible(timeout=RUN_SECONDS * 1000)
    execution_id = token.inner_text().removeprefix("rollback-")

    page.get_by_role("tab", name="History").click()
    row = page.locator(f"tr[data-execution='{execution_id}']")
    row.get_by_role("button", name="Roll back").click()
    row.get_by_role("button", name="Yes, roll back").click()

    report = page.locator(".rollback-report")
    expect(report).to_contain_text("Deleted", timeout=RUN_SECONDS * 1000)
    expect(report).to_contain_text("0 conflicts")
    expect(row).to_contain_text("rolled back")
    assert not (workspace / name).exists()


def test_beginner_run_confirmed_once_then_stopped_ends_cancelled(page: Page, workspace: Path, tmp_path: Path) -> None:
    name = unique("dashboard-stop")
    configure_react(page, name, "Beginner")
    page.get_by_role("button", name="Execute Skill").click()

    prompt = page.get_by_role("region", name="Confirmation")
    expect(prompt).to_contain_text("Ready to run Validate Parameters?", timeout=RUN_SECONDS * 1000)
    prompt.get_by_role("button", name="Proceed").click()
    expect(prompt).to_contain_text("Ready to run Check Environment?", timeout=RUN_SECONDS * 1000)
    page.screenshot(path=tmp_path / "paused.png", full_page=True)
    prompt.get_by_role("button", name="Stop").click()

    expect(page.locator(".outcome")).to_contain_text("Execution cancelled", timeout=RUN_SECONDS * 1000)
    expect(page.locator("#execution .badge")).to_have_text("cancelled")
    expect(page.locator(".step[data-step='validate-parameters']")).to_have_class(re.compile("completed"))
    expect(prompt).to_be_hidden()
    assert not (workspace / name).exists()


def test_history_re_attaches_to_a_paused_execution_after_a_reload(page: Page, workspace: Path) -> None:
    name = unique("dashboard-reattach")
    configure_react(page, name, "Beginner")
    page.get_by_role("button", name="Execute Skill").click()
    prompt = page.get_by_role("region", name="Confirmation")
    expect(prompt).to_contain_text("Ready to run Validate Parameters?", timeout=RUN_SECONDS * 1000)
    execution_id = page.locator("#execution .meta code").inner_text()

    page.reload()
    page.get_by_role("tab", name="History").click()
    row = page.locator(f"tr[data-execution='{execution_id}']")
    expect(row).to_contain_text("paused")
    row.get_by_role("link", name="Re-attach").click()

    try:
        expect(page.get_by_role("tab", name="Run")).to_have_attribute("aria-selected", "true")
        expect(prompt).to_contain_text("Ready to run Validate Parameters?", timeout=30_000)
        prompt.get_by_role("button", name="Stop").click()
        expect(page.locator(".outcome")).to_contain_text("Execution cancelled", timeout=RUN_SECONDS * 1000)
    finally:
        httpx.post(f"{page.url.rstrip('/')}/api/executions/{execution_id}/cancel")
    assert not (workspace / name).exists()


def test_invalid_parameters_are_shown_next_to_their_field_and_nothing_runs(page: Page, facade: str, tmp_path: Path) -> None:
    before = httpx.get(f"{facade}/api/execution-history", params={"skillId": "react-setup"}).json()["count"]
    configure_react(page, "Not A Valid Name", "Expert")

    page.get_by_role("button", name="Execute Skill").click()

    error = page.locator("#field-projectName-error")
    expect(error).to_contain_text("should match pattern")
    expect(page.get_by_label("Project name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-alert")).to_contain_text("Fix the highlighted fields")
    expect(page.locator("#execution")).to_be_hidden()
    page.screenshot(path=tmp_path / "invalid.png")
    assert httpx.get(f"{facade}/api/execution-history", params={"skillId": "react-setup"}).json()["count"] == before


def test_a_parameter_with_a_condition_shows_only_while_it_holds(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Docker Configuration")).click()
    database = page.get_by_label("Choose database")
    expect(database).to_be_visible()
    expect(database).to_contain_text("PostgreSQL (recommended)")

    page.get_by_label("Include database service?").uncheck()

    expect(database).to_be_hidden()


def test_a_401_asks_for_the_api_token_and_sends_it_on_every_call(browser: Browser, guarded_facade: tuple[str, str]) -> None:
    base, token = guarded_facade
    with dashboard(browser, base) as page:
        sent: list[str | None] = []
        page.on("request", lambda request: sent.append(request.headers.get("authorization")) if "/api/" in request.url else None)
        dialog = page.get_by_role("dialog", name="API token")
        expect(dialog).to_be_visible()

        dialog.get_by_label("Bearer token").fill(token)
        dialog.get_by_role("button", name="Save").click()

        expect(page.get_by_role("button", name=re.compile("React Project Setup"))).to_be_visible()
        page.get_by_role("button", name=re.compile("React Project Setup")).click()
        page.get_by_label("Project name").fill(unique("token"))
        page.get_by_role("button", name="Dry Run").click()
        expect(page.locator("#preview")).to_contain_text("All validations passed")
        assert page.evaluate("sessionStorage.getItem('skillworks.apiToken')") == token
        assert sent[-2:] == [f"Bearer {token}"] * 2
