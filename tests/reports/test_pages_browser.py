"""The report pages as Debian's Chromium lays them out, against real Gunicorn, Uvicorn and Redis."""

import datetime as dt
from collections.abc import Iterator

import pytest

from testbed.database import LiveDatabase
from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server
from tests.browser import PHONE, chromium, page_overflow
from tests.reports.test_live import logged_in_session, publish

pytestmark = [pytest.mark.live, pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 800}
# Cells that must read as one unit: a timestamp, an order number, a SKU.
UNBREAKABLE_COLUMNS = ["Placed at", "Order", "SKU"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def new_page(browser):
    contexts = []

    def open_page(viewport: dict[str, int]):
        contexts.append(browser.new_context(viewport=viewport))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def lines_per_cell(page, label: str) -> list[int]:
    """How many lines the text of each cell under the column `label` takes."""
    return page.evaluate(
        """label => {
            const table = document.querySelector('[data-testid=report-table]');
            const index = [...table.tHead.rows[0].cells].findIndex(cell => cell.textContent === label);
            return [...table.tBodies[0].rows].map(row => {
                const range = document.createRange();
                range.selectNodeContents(row.cells[index]);
                return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
            });
        }""",
        label,
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_order_lines_keep_timestamps_order_numbers_and_skus_on_one_line(live_stacks, new_page, viewport):
    page = new_page(viewport)
    page.goto(f"{live_stacks.wsgi.url}/reports/order-lines/")

    for label in UNBREAKABLE_COLUMNS:
        assert set(lines_per_cell(page, label)) == {1}, label


def test_at_phone_width_the_order_lines_table_scrolls_in_its_own_box(live_stacks, new_page):
    page = new_page(PHONE)
    page.goto(f"{live_stacks.wsgi.url}/reports/order-lines/")

    box = page.eval_on_selector(
        "[data-testid=table-scroll]", "box => ({scrollWidth: box.scrollWidth, clientWidth: box.clientWidth})"
    )

    assert box["scrollWidth"] > box["clientWidth"]
    assert page_overflow(page) <= 0


@pytest.fixture
def uvicorn_without_publications(tmp_path, shared_redis_url, server_logs) -> Iterator[WebServer]:
    database = LiveDatabase(tmp_path)
    database.create()
    server = uvicorn_server(
        base_environment(DATABASE_URL=database.url, REDIS_URL=shared_redis_url), server_logs
    )
    server.start()
    yield server
    server.stop()
    database.drop()


def test_the_empty_live_page_says_so_without_numbering_it(uvicorn_without_publications, new_page):
    page = new_page(PHONE)
    page.goto(f"{uvicorn_without_publications.url}/reports/live/")

    empty = page.wait_for_selector("[data-testid=no-publications]")

    assert empty.inner_text() == "Nothing published yet."
    assert empty.evaluate("node => getComputedStyle(node).display") != "list-item"
    assert page.locator("[data-testid=publications] li").count() == 0


def shown_times(page) -> list[dict]:
    """Each time on the live page: its datetime attribute, its text and how many lines it takes."""
    return page.eval_on_selector_all(
        "[data-testid=publications] time",
        """times => times.map(time => {
            const range = document.createRange();
            range.selectNodeContents(time);
            const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
            return {iso: time.dateTime, text: time.textContent, lines};
        })""",
    )


def utc_text(iso: str) -> str:
    return f"{dt.datetime.fromisoformat(iso).astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def test_a_live_publication_shows_its_time_as_the_server_rendered_ones_do(live_stacks, new_page):
    session = logged_in_session(live_stacks.wsgi)
    publish(session, live_stacks.wsgi, slug="top-products")  # at least one rendered by the server
    page = new_page(PHONE)
    page.goto(f"{live_stacks.asgi.url}/reports/live/")
    page.wait_for_selector('[data-testid="socket-state"][data-state="open"]', timeout=10_000)
    rendered = shown_times(page)

    publish(session, live_stacks.wsgi, slug="revenue-by-region")
    page.wait_for_selector('[data-testid="publications"] li.fresh time', timeout=5_000)
    [live] = [time for time in shown_times(page) if time["iso"] not in {shown["iso"] for shown in rendered}]

    assert rendered
    for time in [*rendered, live]:
        assert time["text"] == utc_text(time["iso"])
        assert time["lines"] == 1


def test_at_phone_width_a_chart_keeps_readable_labels_and_scrolls_in_its_own_box(live_stacks, new_page):
    page = new_page(PHONE)
    page.goto(f"{live_stacks.wsgi.url}/reports/revenue-by-month/")

    chart = page.eval_on_selector(
        "figure.chart",
        """figure => {
            const svg = figure.querySelector('svg');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const smallest = Math.min(...[...svg.querySelectorAll('text')].map(
                text => parseFloat(getComputedStyle(text).fontSize)));
            return {
                label_px: smallest * scale, scrollWidth: figure.scrollWidth, clientWidth: figure.clientWidth
            };
        }""",
    )

    assert chart["label_px"] >= 12
    assert chart["scrollWidth"] > chart["clientWidth"]
    assert page_overflow(page) <= 0
