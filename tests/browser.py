"""The browser the dashboard tests drive: Debian's Chromium under Playwright, one per test module.

Chromium comes from the system (``make test`` puts it at /usr/bin/chromium): Playwright's own
browser download cannot reach its servers from here. A pytest plugin (``tests/conftest.py``),
so every browser test gets the ``browser`` fixture without importing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (make test installs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
