"""The header and the home page on real servers, laid out each way users run them: side by side as
under `make run`, behind nginx as under `docker compose up`, and `manage.py runserver`; and, in
Chromium, pages that ask for nothing that is not there (the favicon) and errors that show."""

import re
from collections.abc import Iterator

import pytest
import requests

from testbed.environment import base_environment
from testbed.nginx import NGINX_BINARY, NginxServer
from testbed.processes import wait_until
from testbed.web import WebServer, runserver
from tests.browser import PHONE, chromium, page_overflow
from tests.conftest import Stacks, skip_unless, start_stacks
from tests.myproject.which_stack.test_layout import text_of

pytestmark = pytest.mark.live

# A request in an access log: Gunicorn's `"GET /path HTTP/1.1" 404 ...`, Uvicorn's the same up to
# the status.
LOGGED_REQUEST = re.compile(r'"(?:GET|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


@pytest.fixture(scope="module")
def side_by_side(live_database, shared_redis_url, server_logs) -> Iterator[Stacks]:
    """Both stacks as `make run` starts them: each knows the other's port."""
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    stacks = start_stacks(env, server_logs, side_by_side=True)
    yield stacks
    stacks.wsgi.stop()
    stacks.asgi.stop()


@pytest.fixture(scope="module")
def behind_nginx(live_database, shared_redis_url, server_logs) -> Iterator[tuple[Stacks, NginxServer]]:
    """Both stacks behind the shipped nginx config, trusting its address, as docker-compose.yml
    starts them (there, FORWARDED_ALLOW_IPS is nginx's address; here, loopback)."""
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, FORWARDED_ALLOW_IPS="127.0.0.1"
    )
    stacks = start_stacks(env, server_logs)
    nginx = NginxServer(stacks.wsgi.url, stacks.asgi.url, server_logs)
    nginx.start()
    yield stacks, nginx
    nginx.stop()
    stacks.wsgi.stop()
    stacks.asgi.stop()


def page(url: str) -> str:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


# make run: side by side ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "other"), [("wsgi", "asgi"), ("asgi", "wsgi")])
def test_side_by_side_each_page_links_to_itself_on_the_other_stack(side_by_side, stack, other):
    served = page(f"{getattr(side_by_side, stack).url}/reports/top-products/?start=2024-01-01")

    other_port = getattr(side_by_side, other).port
    assert text_of(served, "stack-badge") == {"wsgi": "WSGI · Gunicorn", "asgi": "ASGI · Uvicorn"}[stack]
    assert f'href="http://127.0.0.1:{other_port}/reports/top-products/?start=2024-01-01"' in served


def test_side_by_side_the_home_page_names_the_real_ports(side_by_side):
    explained = text_of(page(f"{side_by_side.asgi.url}/"), "layout-explained")

    assert f"through WSGI on port {side_by_side.wsgi.port}" in explained
    assert f"through ASGI on port {side_by_side.asgi.port}" in explained


def test_the_live_page_gunicorn_serves_opens_its_socket_on_the_asgi_port(side_by_side):
    served = page(f"{side_by_side.wsgi.url}/reports/live/")

    assert f'data-socket-port="{side_by_side.asgi.port}"' in served
    assert 'data-testid="wsgi-note"' not in served


# docker compose up: behind nginx ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "interface"), [("/", "WSGI"), ("/chat/", "ASGI"), ("/reports/live/", "ASGI")]
)
def test_behind_nginx_the_header_says_which_stack_nginx_chose(behind_nginx, path, interface):
    _, nginx = behind_nginx

    served = page(f"{nginx.url}{path}")

    assert text_of(served, "proxy-route") == f"the proxy sent this page to the {interface} stack"
    assert 'data-testid="other-stack"' not in served


def test_behind_nginx_the_home_page_explains_the_routing(behind_nginx):
    _, nginx = behind_nginx

    explained = text_of(page(f"{nginx.url}/"), "layout-explained")

    assert "picks a stack by the path" in explained
    assert "It sent this page to the WSGI stack" in explained


def test_behind_nginx_the_live_page_opens_its_socket_on_the_page_origin(behind_nginx):
    _, nginx = behind_nginx

    assert 'data-socket-port=""' in page(f"{nginx.url}/reports/live/")


def test_a_stack_reached_on_its_own_port_beside_nginx_says_nothing_of_nginx(behind_nginx):
    stacks, _ = behind_nginx

    served = page(f"{stacks.wsgi.url}/")

    assert 'data-testid="proxy-route"' not in served
    assert "You reached the WSGI stack on its own port" in text_of(served, "layout-explained")


# manage.py runserver ------------------------------------------------------------------------------


def test_under_runserver_the_home_page_says_one_process_serves_everything(live_database, server_logs):
    env = base_environment(DATABASE_URL=live_database.url)
    for name in ("REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"):
        env.pop(name, None)  # as a developer types it: runserver turns debug on itself
    server = runserver(env, server_logs)
    server.start()
    try:
        served = page(f"{server.url}/")
    finally:
        server.stop()

    assert text_of(served, "stack-badge") == "ASGI · Daphne"
    assert text_of(served, "one-stack") == "runserver: one stack, no WSGI"
    explained = text_of(served, "layout-explained")
    assert "manage.py runserver is Daphne's" in explained
    assert "There is no WSGI stack here" in explained
    assert "8001" not in explained


# In Chromium --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def requests_logged_since(server: WebServer, offset: int) -> list[tuple[str, int]]:
    return [(path, int(status)) for path, status in LOGGED_REQUEST.findall(server.log()[offset:])]


@pytest.mark.browser
@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_loading_the_home_page_asks_for_nothing_that_is_missing(side_by_side, browser, stack):
    server: WebServer = getattr(side_by_side, stack)
    offset = len(server.log())
    context = browser.new_context()
    try:
        tab = context.new_page()
        statuses: dict[str, int] = {}
        tab.on("response", lambda response: statuses.setdefault(response.url, response.status))
        tab.goto(f"{server.url}/")
        # The browser asks for the icon on its own, after the page: wait until the server saw that.
        wait_until(
            lambda: any("favicon" in path for path, _ in requests_logged_since(server, offset)),
            10,
            "the browser to ask for the page's icon",
        )
    finally:
        context.close()

    logged = requests_logged_since(server, offset)
    assert [entry for entry in logged if entry[1] >= 400] == []
    assert [url for url, status in statuses.items() if status >= 400] == []
    assert "Not Found:" not in server.log()[offset:]


@pytest.mark.browser
def test_a_failed_login_shows_an_error_that_stands_out(side_by_side, browser):
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"{side_by_side.wsgi.url}/accounts/login/")
        tab.fill("#id_username", "alice")
        tab.fill("#id_password", "not-her-password")
        tab.click("button[type=submit]")
        alert = tab.wait_for_selector("[role=alert]", timeout=10_000)
        text = alert.inner_text()
        color = alert.evaluate("node => getComputedStyle(node).color")
        font_size = alert.evaluate("node => parseFloat(getComputedStyle(node).fontSize)")
        body_size = tab.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    finally:
        context.close()

    assert "Please enter a correct username and password" in text
    red, green, blue = (int(part) for part in re.findall(r"\d+", color)[:3])
    assert red > 2 * max(green, blue), color  # red, not the hints' grey
    assert font_size >= body_size


@pytest.mark.browser
def test_on_a_phone_the_header_wraps_instead_of_widening_the_page(side_by_side, browser):
    context = browser.new_context(viewport=PHONE)
    try:
        tab = context.new_page()
        tab.goto(f"{side_by_side.wsgi.url}/reports/")
        overflow = page_overflow(tab)
        link_box = tab.locator('[data-testid="other-stack"]').bounding_box()
    finally:
        context.close()

    assert overflow <= 0
    assert link_box["x"] + link_box["width"] <= PHONE["width"]
