"""Debian's Chromium driven by Playwright, for the browser tests, and the layout facts they check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import skip_unless

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# A phone held upright, in CSS pixels (the iPhone 12 to 14 size).
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Any]:
    skip_unless(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def page_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window: above 0, it scrolls sideways."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
