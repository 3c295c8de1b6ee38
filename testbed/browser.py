"""Debian's Chromium, headless, driven by Playwright: for the browser tests and `make screenshots`.

Debian's package, not a browser Playwright downloads: the machines this project runs on reach
Debian's archive but no browser download site.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# --no-sandbox: the tests run as root in a container, where Chromium's sandbox cannot start.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def launch_chromium(executable: Path = CHROMIUM) -> Iterator[Browser]:
    if not executable.exists():
        raise RuntimeError(f"Chromium is not installed at {executable}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
