"""The /demo/wire/ page in Debian's Chromium, against real Gunicorn, Uvicorn and Redis."""

from collections.abc import Iterator

import pytest

from testbed.environment import base_environment
from testbed.web import WebServer, gunicorn_server, uvicorn_server
from tests.browser import PHONE, chromium

pytestmark = [pytest.mark.live, pytest.mark.browser]

# The page makes four requests and a short socket exchange: milliseconds, on a machine at rest.
SHOWN_WITHIN_MS = 10_000


@pytest.fixture
def page():
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page


@pytest.fixture(scope="module")
def debug_stacks(live_database, shared_redis_url, server_logs) -> Iterator[tuple[WebServer, WebServer]]:
    """As `make run` starts them: debug on, Django's ASGI stack (the default), and Gunicorn's pages
    sending their sockets to Uvicorn's port (ASGI_STACK_PORT)."""
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, DJANGO_DEBUG="1")
    asgi = uvicorn_server(env, server_logs)
    wsgi = gunicorn_server({**env, "ASGI_STACK_PORT": str(asgi.port)}, server_logs)
    # Gunicorn's page opens its socket on Uvicorn, from Gunicorn's origin: trusted, as `make run`
    # trusts it by setting WSGI_STACK_PORT too (myproject/realtime/origin.py).
    asgi.env["DJANGO_CSRF_TRUSTED_ORIGINS"] = wsgi.url
    asgi.start()
    try:
        wsgi.start()
    except Exception:
        asgi.stop()
        raise
    yield wsgi, asgi
    wsgi.stop()
    asgi.stop()


def wait_for_section(page, name: str, state: str = "shown") -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    status = f'[data-testid="{name}-status"]'
    try:
        page.wait_for_selector(f'{status}[data-state="{state}"]', timeout=SHOWN_WITHIN_MS)
    except PlaywrightTimeout:
        pytest.fail(f"the {name} section is not {state}: {page.inner_text(status)!r}; errors: {page.errors}")


def cells(page, table: str, column: int, section: str = "http-trace") -> list[str]:
    return page.eval_on_selector_all(
        f'[data-testid="{section}"] [data-testid="{table}"] tbody tr',
        f"rows => rows.map(row => row.cells[{column}].textContent)",
    )


def events(page, testid: str) -> list[str]:
    return page.eval_on_selector_all(
        f'[data-testid="{testid}"] li', "items => items.map(item => item.dataset.type)"
    )


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def assert_socket_exchange_shown(page) -> None:
    wait_for_section(page, "socket")
    shown = events(page, "socket-events")
    assert (
        dict(
            zip(cells(page, "scope", 0, "socket-trace"), cells(page, "scope", 1, "socket-trace"), strict=True)
        )["type"]
        == "websocket"
    )
    assert shown[:2] == ["websocket.connect", "websocket.accept"]
    assert shown[-2:] == ["websocket.close", "websocket.disconnect"]


def test_on_uvicorn_the_page_shows_the_scope_the_events_and_a_socket_exchange(live_stacks, page):
    page.goto(f"{live_stacks.asgi.url}/demo/wire/")

    wait_for_section(page, "http")
    scope = dict(zip(cells(page, "scope", 0), cells(page, "scope", 1), strict=True))
    assert scope["type"] == "http"
    assert scope["path"] == "/demo/wire/capture/"
    assert events(page, "http-events") == ["http.request", "http.response.start", "http.response.body"]
    assert_socket_exchange_shown(page)
    assert fits_the_phone(page)
    assert page.errors == []


def test_with_debug_on_gunicorn_shows_the_environ_and_the_socket_goes_to_uvicorn(debug_stacks, page):
    wsgi, _ = debug_stacks
    page.goto(f"{wsgi.url}/demo/wire/")

    wait_for_section(page, "http")
    assert "REQUEST_METHOD" in cells(page, "environ-cgi", 0)
    assert "wsgi.version" in cells(page, "environ-wsgi", 0)
    assert page.inner_text('[data-testid="start-response-status"] code') == "200 OK"
    assert_socket_exchange_shown(page)
    assert fits_the_phone(page)
    assert page.errors == []


def test_on_gunicorn_without_a_socket_port_the_page_says_why_there_is_no_socket(live_stacks, page):
    page.goto(f"{live_stacks.wsgi.url}/demo/wire/")

    wait_for_section(page, "http")
    wait_for_section(page, "socket", state="failed")
    assert page.is_visible('[data-testid="wsgi-notice"]')
    assert "REQUEST_METHOD" in cells(page, "environ-cgi", 0)
