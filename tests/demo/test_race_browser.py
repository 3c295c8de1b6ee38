"""The race page in Debian's Chromium, against real Gunicorn, Uvicorn and Redis started as `make run`
starts them (debug on, two origins).

With RACE_SCREENSHOT=<path> set, the first test also saves a screenshot of the page after its race
(the README's docs/images/race.png is made this way; docs/race.md has the command).
"""

from __future__ import annotations

import os

import pytest

from tests.browser import PHONE, chromium, page_overflow
from tests.demo.conftest import WSGI_WORKERS

pytestmark = [pytest.mark.live, pytest.mark.browser]

RACE_DEADLINE_MS = 120_000


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def race(page, *, groups: list[str], n: int, ms: int, mode: str = "server") -> dict[str, float]:
    """Fill in the form, run the race, wait for its end; the wall time of each group, in ms."""
    if mode == "server":
        page.wait_for_selector('[data-testid="status"]:has-text("Driver ready")', timeout=10_000)
    page.fill('input[name="n"]', str(n))
    page.fill('input[name="ms"]', str(ms))
    for box in page.query_selector_all('input[name="groups"]'):
        box.set_checked(box.get_attribute("value") in groups)
    page.select_option('select[name="mode"]', mode)
    page.click('[data-testid="run"]')
    page.wait_for_selector('[data-testid="race"][data-state="finished"]', timeout=RACE_DEADLINE_MS)
    problem = page.query_selector('[data-testid="problem"]:not([hidden])')
    assert problem is None, problem.inner_text()
    return {group: float(page.get_attribute(f'[data-group="{group}"]', "data-wall-ms")) for group in groups}


def lanes_drawn(page, group: str) -> int:
    return page.eval_on_selector(
        f'[data-group="{group}"] svg', "svg => svg.querySelectorAll('rect[fill^=\"#\"]').length"
    )


def test_fifty_sleeps_finish_at_once_on_async_asgi_and_in_worker_turns_on_gunicorn(race_stacks, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto(f"{race_stacks.wsgi.url}/demo/race/")  # Gunicorn's page, the driver on Uvicorn

    walls = race(page, groups=["def-wsgi", "async-asgi"], n=50, ms=500)

    # 50 waits of 500 ms: Gunicorn's 2 sync workers need 25 turns (12.5 s); one event loop, one.
    assert walls["async-asgi"] < walls["def-wsgi"] / 2
    assert walls["def-wsgi"] >= (50 / WSGI_WORKERS) * 500 * 0.95
    assert "server-side driver" in page.inner_text('[data-testid="mode-used"]')
    assert "read from the server" in page.inner_text('[data-group="def-wsgi"] [data-testid="stats"]')
    for group in ("def-wsgi", "async-asgi"):
        # Per lane: the served bar and the arrival tick.
        assert lanes_drawn(page, group) == 2 * 50
    if os.environ.get("RACE_SCREENSHOT"):
        page.screenshot(path=os.environ["RACE_SCREENSHOT"], full_page=True)


def test_from_the_browser_the_connection_cap_makes_even_the_event_loop_wait_in_turns(race_stacks, browser):
    page = browser.new_page()
    page.goto(f"{race_stacks.wsgi.url}/demo/race/")

    # The page is Gunicorn's: the ASGI probes are another origin, readable thanks to CORS.
    walls = race(page, groups=["async-asgi"], n=12, ms=300, mode="browser")

    # About 6 connections per host: 12 requests reach Uvicorn in at least two turns.
    assert walls["async-asgi"] >= 2 * 300 * 0.95
    assert "from this browser" in page.inner_text('[data-testid="mode-used"]')
    stats = page.inner_text('[data-group="async-asgi"] [data-testid="stats"]')
    assert "failed" not in stats
    assert "the browser's cap" in stats
    assert lanes_drawn(page, "async-asgi") == 2 * 12


def test_the_page_fits_a_phone(race_stacks, browser):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{race_stacks.asgi.url}/demo/race/")

    race(page, groups=["async-asgi", "def-asgi"], n=10, ms=100)

    assert page_overflow(page) == 0
