"""The dashboard's Workflows tab in Chromium against the real facade, Prefect and skills: the DAG with the
validation problems next to their nodes, and a run whose approval node is confirmed (or declined) from the page."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import needs_chromium
from tests.sse import read_events
from tests.test_cli_workflows import touch_workflow
from tests.test_dashboard import RUN_SECONDS, dashboard

pytestmark = needs_chromium


@pytest.fixture
def page(browser, facade: str) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    with dashboard(browser, facade) as page:
        page.get_by_role("tab", name="Workflows").click()
        yield page


@pytest.fixture
def saved_workflow(facade: str) -> Iterator[str]:
    """The two-node touch-file workflow with an approval before its second node, saved through the API."""
    spec = touch_workflow(approval=True)
    response = httpx.post(f"{facade}/api/workflows", json={"spec": spec}, timeout=60)
    assert response.status_code == 201, response.text
    yield spec["id"]
    httpx.delete(f"{facade}/api/workflows/{spec['id']}", timeout=60)


def node(page: Page, node_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#workflow-graph .dag-node[data-node='{node_id}']")


def run_until_approval(page: Page, workflow_id: str, folder: str) -> None:
    page.locator(f"button[data-workflow='{workflow_id}']").click()
    expect(node(page, "first")).to_be_visible()
    expect(page.locator("#workflow-graph .dag-edge[data-from='first'][data-to='second']")).to_have_count(1)
    page.get_by_label("An existing folder").fill(folder)
    page.get_by_label("Expert", exact=True).check()
    page.get_by_role("button", name="Run workflow").click()
    expect(page.get_by_role("region", name="Confirmation")).to_contain_text("Approve node second?", timeout=RUN_SECONDS * 1000)
    expect(node(page, "first")).to_have_attribute("data-state", "completed")
    expect(node(page, "second")).to_have_attribute("data-state", "awaiting")


def test_validation_problems_are_drawn_next_to_the_nodes_they_concern(page: Page, facade: str, tmp_path: Path) -> None:
    page.locator("button[data-workflow='full-stack-starter']").click()
    expect(node(page, "audit")).to_be_visible()
    cyclic = {"id": "cyclic", "name": "Cyclic", "version": "1.0.0", "nodes": [
        {"id": "a", "skill": "touch-file", "depends_on": ["b"], "parameters": {"folder": "x", "name": "a"}},
        {"id": "b", "skill": "touch-file", "depends_on": ["a"], "parameters": {"folder": "x", "name": "b"}},
        {"id": "lonely", "skill": "no-such-skill"},
    ]}
    page.get_by_text("Spec (JSON)").click()
    page.get_by_label("Workflow spec (JSON)").fill(json.dumps(cyclic))
    page.get_by_label("Workflow spec (JSON)").dispatch_event("change")
    runs_before = httpx.get(f"{facade}/api/execution-history", params={"limit": 1}).json()["count"]

    page.get_by_role("button", name="Validate").click()

    expect(node(page, "lonely").locator(".node-problems")).to_contain_text("unknown_skill")
    expect(node(page, "lonely").locator(".node-problems")).to_contain_text("no-such-skill")
    # The cycle's path: under a node it names, or above the graph when it belongs to no one node.
    expect(page.get_by_role("region", name="Workflow graph")).to_contain_text(re.compile(r"a -> b -> a|b -> a -> b"))
    expect(page.locator("#workflow-graph .dag-edge.backwards")).to_have_count(1)
    expect(page.locator("#workflow-summary")).to_contain_text("Not valid")
    assert httpx.get(f"{facade}/api/execution-history", params={"limit": 1}).json()["count"] == runs_before
    page.screenshot(path=tmp_path / "workflow-problems.png", full_page=True)


def test_an_approval_node_is_confirmed_from_the_page(saved_workflow: str, page: Page, workspace: Path, tmp_path: Path) -> None:
    folder = f"page-wf-{uuid.uuid4().hex[:8]}"
    (workspace / folder).mkdir()
    run_until_approval(page, saved_workflow, folder)
    assert not (workspace / folder / "two.txt").exists()  # paused before the second node

    page.get_by_role("region", name="Confirmation").get_by_role("button", name="Approve").click()

    expect(page.locator("#workflow-execution .outcome")).to_contain_text("Workflow complete", timeout=RUN_SECONDS * 1000)
    expect(node(page, "second")).to_have_attribute("data-state", "completed")
    expect(page.locator("#workflow-execution .badge")).to_have_text("completed")
    assert sorted(p.name for p in (workspace / folder).iterdir()) == ["one.txt", "two.txt"]
    page.screenshot(path=tmp_path / "workflow-complete.png", full_page=True)

    page.get_by_role("button", name="Roll back every node").click()
    page.get_by_role("button", name="Yes, roll back").click()
    expect(page.locator(".rollback-report")).to_contain_text("Deleted 2", timeout=RUN_SECONDS * 1000)
    assert list((workspace / folder).iterdir()) == []


def test_declining_an_approval_from_the_page_undoes_what_ran(saved_workflow: str, page: Page, workspace: Path) -> None:
    folder = f"page-wf-no-{uuid.uuid4().hex[:8]}"
    (workspace / folder).mkdir()
    run_until_approval(page, saved_workflow, folder)

    page.get_by_role("region", name="Confirmation").get_by_role("button", name="Decline").click()

    expect(page.locator("#workflow-execution .badge")).to_have_text("cancelled", timeout=RUN_SECONDS * 1000)
    expect(node(page, "first")).to_have_attribute("data-state", "compensated")
    assert list((workspace / folder).iterdir()) == []


def test_a_paused_workflow_is_reattached_from_history_then_cancelled_from_the_page(
    saved_workflow: str, page: Page, facade: str, workspace: Path
) -> None:
    """Started through the API and left at its approval (the client went away); the page finds it in the
    History tab, re-attaches to it on the Workflows tab, and its Cancel button stops it and undoes it."""
    folder = f"page-wf-attach-{uuid.uuid4().hex[:8]}"
    (workspace / folder).mkdir()
    request = {"workflowId": saved_workflow, "inputs": {"folder": folder}, "level": "expert"}
    with httpx.Client(base_url=facade, timeout=httpx.Timeout(30, read=RUN_SECONDS)) as api:
        with api.stream("POST", "/api/workflows/execute", json=request) as response:
            events = read_events(response)
            execution_id = next(events)[1]["executionId"]
            next(event for _, event in events if event["type"] == "awaiting_confirmation")

    page.get_by_role("tab", name="History").click()
    page.locator(f"tr[data-execution='{execution_id}']").get_by_role("link", name="Re-attach").click()

    expect(page.get_by_role("tab", name="Workflows")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("region", name="Confirmation")).to_contain_text("Approve node second?", timeout=RUN_SECONDS * 1000)
    expect(node(page, "first")).to_have_attribute("data-state", "completed")  # the graph, from the run's events
    expect(node(page, "second")).to_have_attribute("data-state", "awaiting")
    page.locator("#workflow-execution").get_by_role("button", name="Cancel").click()
    expect(page.locator("#workflow-execution .badge")).to_have_text("cancelled", timeout=RUN_SECONDS * 1000)
    expect(page.get_by_role("region", name="Confirmation")).to_be_hidden()
    assert list((workspace / folder).iterdir()) == []
