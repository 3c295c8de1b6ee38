"""Every page of the screenshot gallery, on both stacks, at a phone's width (390 CSS pixels), in
Debian's Chromium: the layout holds, the text is readable, and nothing on the page fails.

The pages and the way the stacks run (as `make run` runs them) come from screenshots.py, so the
gallery and this test look at the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from screenshots import (
    PAGES,
    PUBLISHED_BEFORE_THE_SHOT,
    Page,
    RunningStacks,
    Width,
    new_context,
    open_page,
    publish_reports,
    running_stacks,
)
from tests.browser import chromium

pytestmark = [pytest.mark.live, pytest.mark.browser]

PHONE = Width("phone", 390, 844, 1)
# Below this a phone's reader has to zoom; 12 px is the floor the common accessibility audits use.
SMALLEST_TEXT_PX = 12
# A layout only rounds sub-pixel widths; anything past one pixel is an element out of the page.
ROUNDING_PX = 1

# What a phone cannot show: the page wider than the screen, an element out of the screen that no
# sideways-scrolling container holds (only the outermost one is named), text too small to read,
# and a column of text so narrow that its words break into pieces (a sidebar that kept its desktop
# width). Each problem is a line naming the element.
LAYOUT_PROBLEMS = """([smallest, rounding, narrowest, longText]) => {
    const problems = [];
    // The screen's width. Not window.innerWidth: a phone's browser widens that to fit a page that
    // is too wide (it zooms out), which would hide the very overflow looked for here.
    const width = document.documentElement.clientWidth;
    const pageWidth = document.scrollingElement.scrollWidth;
    if (pageWidth > width + rounding) {
        problems.push(`the page is ${pageWidth} px wide, the screen ${width} px: it scrolls sideways`);
    }
    const describe = node => node.tagName.toLowerCase()
        + (node.id ? `#${node.id}` : "")
        + [...node.classList].map(name => `.${name}`).join("")
        + (node.dataset.testid ? `[data-testid=${node.dataset.testid}]` : "")
        + ` "${node.textContent.trim().replace(/\\s+/g, " ").slice(0, 30)}"`;
    const insideScroller = node => {
        for (let parent = node.parentElement; parent !== document.body; parent = parent.parentElement) {
            if (["auto", "scroll"].includes(getComputedStyle(parent).overflowX)) return true;
        }
        return false;
    };
    const outside = [];
    for (const node of document.body.querySelectorAll("*")) {
        const box = node.getBoundingClientRect();
        const style = getComputedStyle(node);
        if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
        if ((box.right > width + rounding || box.left < -rounding) && !insideScroller(node)
                && !outside.some(reported => reported.contains(node))) {
            outside.push(node);
            problems.push(`${describe(node)} spans ${Math.round(box.left)}..${Math.round(box.right)} px `
                + `on a ${width} px screen, outside any sideways-scrolling container`);
        }
        const ownText = [...node.childNodes]
            .filter(child => child.nodeType === Node.TEXT_NODE)
            .map(child => child.textContent.trim()).join(" ").trim();
        if (!ownText) continue;
        // An SVG's text is drawn at its font size times the scale the SVG is drawn at (a viewBox
        // shrunk to a phone's width shrinks its labels too).
        const scale = node instanceof SVGGraphicsElement ? node.getScreenCTM().a : 1;
        const size = Math.round(parseFloat(style.fontSize) * scale * 10) / 10;
        if (size < smallest) {
            problems.push(`${describe(node)} has ${size} px text`);
        }
        if (ownText.length >= longText && box.width < narrowest && style.display !== "inline") {
            problems.push(`${describe(node)}: ${ownText.length} characters `
                + `in a column ${Math.round(box.width)} px wide`);
        }
    }
    return problems;
}"""
# A quarter of the phone's screen: narrower, a sentence breaks inside its words.
NARROWEST_TEXT_COLUMN_PX = PHONE.width // 4
LONG_TEXT_CHARACTERS = 25


@dataclass
class PageVisit:
    """What went wrong while a page loaded: console errors, uncaught exceptions, failed requests."""

    problems: list[str] = field(default_factory=list)

    def watch(self, tab) -> None:
        tab.on("console", self._console)
        tab.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        tab.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        tab.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location['url']})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> Iterator[RunningStacks]:
    # A small shop is enough for layout: every report still has rows and a chart.
    with running_stacks(tmp_path_factory.mktemp("phone-layout"), "--size", "2000") as running:
        publish_reports(running, PUBLISHED_BEFORE_THE_SHOT)
        yield running


@pytest.fixture
def browser():
    """A browser of the test's own: Chromium asks a server for /favicon.ico once per run, so in a
    shared one only the first page would show that request failing."""
    with chromium() as launched:
        yield launched


STACKS = ("wsgi", "asgi")


def cases() -> list:
    return [pytest.param(page, stack, id=f"{page.name}-{stack}") for page in PAGES for stack in STACKS]


@pytest.mark.parametrize(("page", "stack"), cases())
def test_page_fits_a_phone_screen_and_loads_without_errors(browser, stacks, page: Page, stack: str):
    server = stacks.wsgi if stack == "wsgi" else stacks.asgi
    visit = PageVisit()
    context = new_context(browser, PHONE, server.url, page.user)
    try:
        tab = context.new_page()
        visit.watch(tab)
        status = open_page(tab, f"{server.url}{page.path}", page)
        problems = [*visit.problems]
        if status < 400:
            problems += tab.evaluate(
                LAYOUT_PROBLEMS,
                [SMALLEST_TEXT_PX, ROUNDING_PX, NARROWEST_TEXT_COLUMN_PX, LONG_TEXT_CHARACTERS],
            )
    finally:
        context.close()

    assert problems == [], f"{page.path} on the {stack} stack at {PHONE.width} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("stack", STACKS)
def test_favicon_is_served(stacks, stack: str):
    """Every browser asks for /favicon.ico on its own, whatever the page links to: a 404 there is a
    failed request on every first visit, in every log."""
    server = stacks.wsgi if stack == "wsgi" else stacks.asgi

    response = requests.get(f"{server.url}/favicon.ico", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/")
