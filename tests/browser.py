"""Debian's Chromium driven by Playwright, for the browser tests, and the layout facts they check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from testbed.browser import CHROMIUM, launch_chromium
from tests.conftest import skip_unless

# A phone held upright, in CSS pixels (the iPhone 12 to 14 size).
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Any]:
    skip_unless(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    with launch_chromium() as browser:
        yield browser


def page_overflow(page) -> int:
    """How many CSS pixels the page is wider than the window: above 0, it scrolls sideways."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
