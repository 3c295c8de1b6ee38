"""The live publications page in Debian's Chromium, against real Gunicorn, Uvicorn and Redis."""

import pytest

from testbed.environment import base_environment
from tests.browser import chromium
from tests.conftest import start_stacks
from tests.reports.test_live import logged_in_session, publish

pytestmark = [pytest.mark.live, pytest.mark.browser]

# ResumableSocket's backoff tops out at 15 s between tries; a restart of Uvicorn takes a few.
RESUME_DEADLINE_MS = 30_000


@pytest.fixture
def page():
    with chromium() as browser:
        yield browser.new_page()


def wait_until_live(page, timeout_ms: int = 10_000) -> None:
    page.wait_for_selector('[data-testid="socket-state"][data-state="open"]', timeout=timeout_ms)


def test_a_publication_appears_on_the_live_page_as_it_is_published(live_stacks, page):
    page.goto(f"{live_stacks.asgi.url}/reports/live/")
    wait_until_live(page)
    session = logged_in_session(live_stacks.wsgi)

    publish(session, live_stacks.wsgi, slug="top-products")

    item = page.wait_for_selector('[data-testid="publications"] li.fresh', timeout=2_000)
    assert "Top products, all dates" in item.inner_text()
    assert item.get_attribute("data-id").isdigit()


def test_the_live_page_resumes_after_uvicorn_restarts_and_shows_what_it_missed(
    live_database, redis_server, server_logs, page
):
    stacks = start_stacks(
        base_environment(DATABASE_URL=live_database.url, REDIS_URL=redis_server.url), server_logs
    )
    try:
        page.goto(f"{stacks.asgi.url}/reports/live/")
        wait_until_live(page)
        session = logged_in_session(stacks.wsgi)

        stacks.asgi.stop()
        page.wait_for_selector('[data-testid="socket-state"][data-state="waiting"]', timeout=10_000)
        publish(session, stacks.wsgi, slug="revenue-by-region")
        stacks.asgi.start()

        wait_until_live(page, timeout_ms=RESUME_DEADLINE_MS)
        item = page.wait_for_selector('[data-testid="publications"] li.fresh', timeout=5_000)
        missed = item.inner_text()
        shown_ids = page.eval_on_selector_all(
            '[data-testid="publications"] li', "items => items.map(i => i.dataset.id)"
        )
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    assert "Revenue by region, all dates" in missed
    assert len(shown_ids) == len(set(shown_ids))


def test_the_live_page_gunicorn_served_receives_a_publication_over_the_asgi_stack(
    live_database, shared_redis_url, server_logs, page
):
    # As under `make run`: Gunicorn cannot hold the socket, so the page it serves opens it on the
    # ASGI stack's port, and the publication arrives there from the channel layer.
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    stacks = start_stacks(env, server_logs, side_by_side=True)
    socket_urls: list[str] = []
    page.on("websocket", lambda socket: socket_urls.append(socket.url))
    try:
        page.goto(f"{stacks.wsgi.url}/reports/live/")
        wait_until_live(page)
        publish(logged_in_session(stacks.wsgi), stacks.wsgi, slug="revenue-by-month")
        item = page.wait_for_selector('[data-testid="publications"] li.fresh', timeout=5_000)
        shown = item.inner_text()
    finally:
        stacks.wsgi.stop()
        stacks.asgi.stop()

    assert "Revenue by month, all dates" in shown
    assert socket_urls[0].startswith(f"ws://127.0.0.1:{stacks.asgi.port}/ws/notifications/")
