"""The dashboard's Analytics tab and measured estimates, in Chromium, drawn from real runs.

The runs are the scripted mix of ``tests.observed_mix``; the charts are compared with what
``/api/analytics`` says at the same moment. A screenshot of the tab is saved.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser import needs_chromium
from tests.observed_mix import SKILL, ObservedMix
from tests.test_dashboard import dashboard, fact

pytestmark = needs_chromium


def percent(rate: float) -> str:
    return f"{round(rate * 100)}%"


def test_analytics_tab_draws_runs_durations_and_steps_from_real_runs(
    browser: Browser, facade: str, observed_mix: ObservedMix, tmp_path: Path
) -> None:
    with dashboard(browser, facade) as page:
        page.get_by_role("tab", name="Analytics").click()
        panel = page.locator("#analytics-panel")
        expect(panel.locator("#runs-per-day svg[role=img]")).to_be_visible()
        analytics = httpx.get(f"{facade}/api/analytics").json()

        # One bar segment per day and status with runs, each titled with its count.
        segments = panel.locator("#runs-per-day rect.mark")
        expected = [
            f"{point['day'][5:]}: {count} {status}"
            for point in analytics["daily"]
            for status, count in point["statuses"].items() if count
        ]
        expect(segments).to_have_count(len(expected))
        assert sorted(segments.locator("title").all_text_contents()) == sorted(expected)
        # A point per skill and day with completed runs; the observed skill among the lines.
        observed = next(skill for skill in analytics["skills"] if skill["skillId"] == SKILL)
        expect(panel.locator("#duration-trend figcaption + svg circle.mark title", has_text="Observed,")).to_have_count(
            sum(1 for point in observed["daily"] if point["durations"]["p50Seconds"] is not None)
        )
        expect(panel.locator("#slowest-steps rect.mark")).to_have_count(
            min(8, sum(1 for skill in analytics["skills"] for step in skill["steps"] if step["durations"]["p95Seconds"] is not None))
        )
        expect(panel.locator("#least-reliable-steps")).to_contain_text(f"{SKILL} · Finish")
        row = panel.locator(f"tr[data-skill='{SKILL}']")
        expect(row).to_contain_text(percent(observed["successRate"]))
        expect(row).to_contain_text("The folder is not a git repository")
        assert fact(panel, "Runs").inner_text() == str(analytics["runs"])
        page.screenshot(path=tmp_path / "analytics.png", full_page=True)
    assert (tmp_path / "analytics.png").stat().st_size > 10_000


def test_measured_time_shows_beside_the_estimate_and_the_progress_counts_down(
    browser: Browser, facade: str, observed_mix: ObservedMix
) -> None:
    assert httpx.get(f"{facade}/api/skill-metadata", params={"skill": SKILL}).json()["measuredTime"]["runs"] >= 5
    with dashboard(browser, facade) as page:
        page.get_by_role("button", name=re.compile("Observed")).click()
        expect(page.locator("#skill-summary .chip.measured")).to_contain_text("measured p50")
        page.get_by_label(re.compile("^folder", re.I)).fill("measured-preview")
        page.get_by_role("button", name="Dry Run").click()
        preview = page.locator("#preview")
        expect(fact(preview, "Estimated time")).to_have_text("1-2 minutes")
        expect(fact(preview, "Measured time")).to_contain_text("p50")
        # The run view counts down from the steps' measured medians as steps finish.
        texts = _progress_texts(page)
        assert "left" in texts[0] and "left" in texts[1] and texts[0] != texts[1]
        assert "left" not in texts[2]


def _progress_texts(page: Page) -> list[str]:
    """The run view's progress line after a step starts, after it completes, and at the end."""
    return page.evaluate(
        """async ([skillId]) => {
          const { ExecutionView } = await import("/static/execution.js");
          const skill = await (await fetch(`/api/skill-metadata?skill=${skillId}`)).json();
          const view = new ExecutionView(document.createElement("section"), { skills: new Map([[skillId, skill]]) });
          view.render(skill, {});
          const texts = [];
          view.handle({ type: "started", executionId: "e", skillId, totalSteps: 4 });
          view.handle({ type: "step_progress", stepIndex: 1, stepId: "prepare", stepName: "Prepare", progress: 0 });
          texts.push(view.progressText.textContent);
          view.handle({ type: "step_completed", stepIndex: 1, stepId: "prepare", stepName: "Prepare", progress: 25, durationMs: 5 });
          texts.push(view.progressText.textContent);
          view.handle({ type: "complete", executionId: "e", duration: "1.0s" });
          texts.push(view.progressText.textContent);
          return texts;
        }""",
        [SKILL],
    )
