"""The Origin check on every socket the project serves, against a real Uvicorn: the handshake's own
origin is accepted; another port, scheme or spelling of it is refused with 403, as the CSRF check
refuses a POST from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server

pytestmark = pytest.mark.live

SOCKETS = ["/ws/chat/lobby/", "/ws/notifications/", "/ws/race/", "/ws/wire/"]


@pytest.fixture(scope="module")
def uvicorn(live_database, shared_redis_url, tmp_path_factory) -> Iterator[WebServer]:
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    server = uvicorn_server(env, tmp_path_factory.mktemp("origin-live-logs"))
    server.start()
    yield server
    server.stop()


def handshake_status(server: WebServer, path: str, origin: str) -> int:
    try:
        socket = connect(
            f"ws://127.0.0.1:{server.port}{path}", origin=origin, proxy=None, open_timeout=10, legacy=True
        )
    except InvalidStatus as refused:
        return refused.response.status_code
    socket.close()
    return 101


@pytest.mark.parametrize("path", SOCKETS)
def test_the_sockets_own_origin_is_accepted(uvicorn, path):
    assert handshake_status(uvicorn, path, f"http://127.0.0.1:{uvicorn.port}") == 101


@pytest.mark.parametrize("path", SOCKETS)
@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:{other}", "https://127.0.0.1:{port}", "https://127.0.0.1", "HTTP://127.0.0.1:{port}"],
)
def test_another_port_or_scheme_of_the_same_host_is_refused(uvicorn, path, origin):
    other = uvicorn.port + 1 if uvicorn.port < 65535 else uvicorn.port - 1
    assert handshake_status(uvicorn, path, origin.format(port=uvicorn.port, other=other)) == 403
