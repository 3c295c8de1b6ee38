"""Every page's header names the stack that served it and the way to the other one; the home page
says how the project is being served. In process, through Django's WSGI and ASGI handlers; the real
servers, nginx and runserver are in test_layout_live.py."""

import re

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client, RequestFactory

from myproject.context_processors import stack
from myproject.which_stack.layout import layout_of, race_socket_port, websocket_port

pytestmark = pytest.mark.django_db(transaction=True)

WSGI_PORT, ASGI_PORT, RACE_DRIVER_PORT = 8101, 8102, 8103
# What nginx adds to every request it passes on.
FORWARDED = {"X-Forwarded-For": "203.0.113.7"}


@pytest.fixture
def direct(settings):
    """A stack reached on its own port, knowing no other stack (whatever the shell exported)."""
    settings.WSGI_STACK_PORT = settings.ASGI_STACK_PORT = settings.RACE_DRIVER_PORT = None
    settings.FORWARDED_ALLOW_IPS = []
    settings.RUNSERVER = False
    return settings


@pytest.fixture
def side_by_side(direct):
    """As under `make run`: each stack knows the other's port."""
    direct.WSGI_STACK_PORT, direct.ASGI_STACK_PORT = WSGI_PORT, ASGI_PORT
    return direct


@pytest.fixture
def behind_a_proxy(direct):
    """As under `docker compose up`: the servers trust the proxy's address."""
    direct.FORWARDED_ALLOW_IPS = ["127.0.0.1"]
    return direct


def get(interface: str, path: str, **headers: str) -> str:
    if interface == "asgi":
        response = async_to_sync(AsyncClient().get)(path, headers=headers)
    else:
        response = Client().get(path, headers=headers)
    return response.content.decode()


def text_of(page: str, testid: str) -> str | None:
    """The text of the element with data-testid=`testid`, tags stripped; None if there is none."""
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:span|a|div)>', page, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None


def test_the_header_names_the_interface_that_served_the_page(interface, direct):
    page = get(interface, "/reports/")

    assert text_of(page, "stack-badge").startswith(f"{interface.upper()} · ")


def test_the_badge_names_gunicorn_from_its_server_software(direct):
    request = RequestFactory().get("/", SERVER_SOFTWARE="gunicorn/27.0.1")

    assert stack(request)["stack"].server == "Gunicorn"


@pytest.mark.parametrize(("interface", "other_port"), [("wsgi", ASGI_PORT), ("asgi", WSGI_PORT)])
def test_side_by_side_every_page_links_to_itself_on_the_other_stack(interface, other_port, side_by_side):
    page = get(interface, "/reports/revenue-by-month/?start=2024-01&end=2024-06")

    link = re.search(r'<a data-testid="other-stack" href="([^"]+)"', page).group(1)
    assert link == f"http://testserver:{other_port}/reports/revenue-by-month/?start=2024-01&amp;end=2024-06"


def test_the_link_keeps_the_host_name_the_browser_used(side_by_side):
    side_by_side.ALLOWED_HOSTS = ["localhost"]

    page = Client(headers={"host": "localhost:8101"}).get("/").content.decode()

    assert f'href="http://localhost:{ASGI_PORT}/"' in page


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_behind_the_proxy_the_header_says_which_stack_the_proxy_chose(interface, behind_a_proxy):
    page = get(interface, "/", **FORWARDED)

    assert text_of(page, "proxy-route") == f"the proxy sent this page to the {interface.upper()} stack"
    assert text_of(page, "other-stack") is None


def test_a_request_that_bypassed_the_proxy_is_not_labelled_as_proxied(behind_a_proxy):
    assert text_of(get("wsgi", "/"), "proxy-route") is None


def test_a_forwarded_header_means_nothing_where_no_proxy_is_trusted(direct):
    page = get("wsgi", "/", **FORWARDED)

    assert text_of(page, "proxy-route") is None


def test_under_runserver_the_header_says_there_is_one_stack(direct):
    direct.RUNSERVER = True

    page = get("asgi", "/")

    assert text_of(page, "one-stack") == "runserver: one stack, no WSGI"
    assert text_of(page, "other-stack") is None


def test_a_stack_reached_directly_links_nowhere(interface, direct):
    page = get(interface, "/")

    assert 'data-layout="direct"' in page
    for name in ("other-stack", "proxy-route", "one-stack"):
        assert text_of(page, name) is None


def test_the_context_processor_queries_nothing(django_assert_num_queries, side_by_side):
    request = RequestFactory().get("/chat/lobby/?x=1")

    with django_assert_num_queries(0):
        result = stack(request)["stack"]

    assert result.other_url == f"http://testserver:{ASGI_PORT}/chat/lobby/?x=1"


# The home page says how it is served ---------------------------------------------------------------


def test_side_by_side_the_home_page_names_both_ports(interface, side_by_side):
    explained = text_of(get(interface, "/"), "layout-explained")

    assert f"through WSGI on port {WSGI_PORT}" in explained
    assert f"through ASGI on port {ASGI_PORT}" in explained
    assert f"This page came from the {interface.upper()} stack" in explained


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_behind_the_proxy_the_home_page_explains_the_routing_and_names_no_port(interface, behind_a_proxy):
    explained = text_of(get(interface, "/", **FORWARDED), "layout-explained")

    assert "picks a stack by the path" in explained
    assert f"It sent this page to the {interface.upper()} stack" in explained
    assert not re.search(r"port \d", explained)


def test_reached_directly_the_home_page_claims_no_port(interface, direct):
    explained = text_of(get(interface, "/"), "layout-explained")

    assert f"You reached the {interface.upper()} stack on its own port" in explained
    assert "8001" not in explained
    assert "8002" not in explained


# Where pages open their WebSockets ------------------------------------------------------------------


def test_a_page_gunicorn_serves_side_by_side_opens_its_socket_on_the_asgi_port(side_by_side):
    assert websocket_port(RequestFactory().get("/reports/live/")) == ASGI_PORT


def test_a_page_the_asgi_stack_serves_opens_its_socket_on_its_own_origin(side_by_side):
    page = get("asgi", "/reports/live/")

    assert 'data-socket-port=""' in page


def test_behind_the_proxy_a_wsgi_page_opens_its_socket_on_its_own_origin(behind_a_proxy):
    behind_a_proxy.ASGI_STACK_PORT = ASGI_PORT
    request = RequestFactory().get("/", headers=FORWARDED)

    assert layout_of(request) == "proxied"
    assert websocket_port(request) is None


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_side_by_side_the_race_page_opens_its_socket_on_the_drivers_own_port(interface, side_by_side):
    side_by_side.RACE_DRIVER_PORT = RACE_DRIVER_PORT

    assert f'data-socket-port="{RACE_DRIVER_PORT}"' in get(interface, "/demo/race/")


def test_behind_the_proxy_the_race_page_opens_its_socket_on_its_own_origin(behind_a_proxy):
    behind_a_proxy.RACE_DRIVER_PORT = RACE_DRIVER_PORT

    assert race_socket_port(RequestFactory().get("/demo/race/", headers=FORWARDED)) is None


def test_without_a_driver_port_the_race_socket_goes_where_every_socket_goes(side_by_side):
    request = RequestFactory().get("/demo/race/")

    assert race_socket_port(request) == websocket_port(request) == ASGI_PORT
