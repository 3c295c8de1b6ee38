"""The nginx config of docker-compose.yml, run under Debian's nginx in front of real stacks:
WebSockets and async paths go to ASGI, the rest to WSGI."""

import json

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from testbed.nginx import NGINX_BINARY, NginxServer
from tests.conftest import skip_unless

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def nginx(live_stacks, server_logs):
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    server = NginxServer(live_stacks.wsgi.url, live_stacks.asgi.url, server_logs)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "interface"),
    [
        ("/", "wsgi"),
        ("/healthz", "wsgi"),
        ("/accounts/login/", "wsgi"),
        ("/demo/sync/hello/", "wsgi"),
        ("/demo/async/hello/", "asgi"),
        ("/chat/", "asgi"),
        ("/chat/lobby/", "asgi"),
        ("/reports/live/", "asgi"),
        ("/reports/", "wsgi"),
        ("/reports/revenue-by-month/", "wsgi"),
    ],
)
def test_nginx_routes_each_path_to_its_stack(nginx, path, interface):
    response = requests.get(f"{nginx.url}{path}", timeout=10)

    assert response.headers["X-Interface"] == interface


def test_nginx_passes_the_original_host_so_django_builds_correct_urls(nginx):
    response = requests.get(f"{nginx.url}/accounts/logout/", timeout=10, allow_redirects=False)

    assert response.headers["X-Interface"] == "wsgi"
    assert response.status_code == 405  # GET logout is refused by Django itself, not by a 400 Bad Host


def test_nginx_upgrades_websockets_to_the_asgi_stack(nginx):
    origin = nginx.url
    with connect(f"ws://127.0.0.1:{nginx.port}/ws/chat/lobby/", origin=origin, open_timeout=10) as socket:
        first = json.loads(socket.recv(timeout=10))

    assert first["type"] == "history"


def test_a_websocket_from_another_origin_is_refused_through_nginx(nginx):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{nginx.port}/ws/chat/lobby/", origin="http://evil.example", open_timeout=10)

    assert refused.value.response.status_code == 403
