"""The dashboard's Marketplace tab in Chromium: search as you type, filters, and a skill's page with its
scan report and reviews, against a real facade and store (SQLite; the API tests cover PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import needs_chromium
from tests.conftest import MarketFacade, marketplace_facade
from tests.marketplace_corpus import HOSTILE, Trap
from tests.marketplace_support import create_account, skill_folder

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def market(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarketFacade]:
    with marketplace_facade("sqlite", "dashboard-market") as facade:
        author = create_account(facade.base, facade.admin_token, "dana", "publisher")
        reviewer = create_account(facade.base, facade.admin_token, "rita", "user")
        tmp = tmp_path_factory.mktemp("dashboard-skills")
        for skill_id, category, tags in (("docker-helper", "devops", ["docker"]), ("react-linter", "frontend", ["react"])):
            folder = skill_folder(tmp / skill_id, skill_id, front={"category": category, "tags": tags,
                                                                   "description": f"{skill_id.replace('-', ' ').title()} for your projects"})
            assert author.publish(folder).json()["status"] == "active"
        hostile = next(case for case in HOSTILE if case.name == "base64-exec")
        assert author.upload(hostile.build(tmp / "hostile", Trap(tmp, 9))).json()["status"] == "banned"
        httpx.post(f"{facade.base}/api/marketplace/skills/docker-helper/ratings", json={"stars": 4, "review": "Handy for compose files"},
                   headers=reviewer.headers).raise_for_status()
        yield facade


@pytest.fixture
def page(browser: Browser, market: MarketFacade) -> Iterator[Page]:
    context = browser.new_context(base_url=market.base, viewport={"width": 1440, "height": 1000})
    context.add_init_script(f"sessionStorage.setItem('skillworks.apiToken', {market.admin_token!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/")
    page.get_by_role("tab", name="Marketplace").click()
    yield page
    context.close()
    assert not errors, errors


def market_tab(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("tabpanel", name="Marketplace")


def cards(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".market-card")


def test_search_narrows_the_list_as_you_type(page: Page) -> None:
    expect(cards(page)).to_have_count(2)

    market_tab(page).get_by_label("Search skills").press_sequentially("dock", delay=40)

    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("docker-helper")
    expect(page.locator("#market-summary")).to_have_text("1 skill.")


def test_filters_choose_category_and_status(page: Page) -> None:
    market_tab(page).get_by_label("Category").select_option("frontend")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("react-linter")

    market_tab(page).get_by_label("Category").select_option("")
    market_tab(page).get_by_label("Status").select_option("banned")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("base64-exec")
    expect(cards(page).first.locator(".badge")).to_have_text("banned")


def test_a_skill_page_shows_its_scan_report_ratings_and_reviews(page: Page, tmp_path: Path) -> None:
    page.locator(".market-card[data-skill='docker-helper']").click()

    expect(page.locator("#market-skill-title")).to_contain_text("Docker Helper")
    report = page.get_by_role("region", name="Scan report")
    expect(report).to_contain_text("clean")
    for scanner in ("bandit", "guarddog", "ast-rules", "dependencies", "secrets"):
        expect(report.locator(".market-scanners")).to_contain_text(f"{scanner}: ran")
    expect(page.locator(".market-reviews")).to_contain_text("rita")
    expect(page.locator(".market-reviews")).to_contain_text("Handy for compose files")
    expect(page.locator("dl.facts")).to_contain_text("4.0★ (1)")
    page.screenshot(path=tmp_path / "skill-page.png", full_page=True)


def test_a_banned_skill_page_lists_the_findings_that_banned_it(page: Page) -> None:
    market_tab(page).get_by_label("Status").select_option("banned")
    page.locator(".market-card[data-skill='base64-exec']").click()

    report = page.get_by_role("region", name="Scan report")
    expect(report).to_contain_text("malicious")
    critical = report.locator("tr.severity-critical")
    expect(critical.filter(has_text="obfuscated-exec")).to_have_count(1)
    expect(critical.filter(has_text="obfuscated-exec").first).to_contain_text("steps.py:")
    expect(page.locator("dl.facts")).to_contain_text("none (no active version)")
