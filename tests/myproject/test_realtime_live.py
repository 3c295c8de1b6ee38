"""Hostile and unlucky handshakes against a real Uvicorn and a real Redis: each is refused cleanly
or served, none crashes a consumer, none answers 500, none logs a traceback."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from myproject.realtime.close_codes import CLOSE_TRY_AGAIN_LATER
from myproject.realtime.layer import LAYER_TIMEOUT_SECONDS
from reports.redis_watch import WATCH_SECONDS
from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server

pytestmark = pytest.mark.live

OPEN_TIMEOUT = 10.0
# The watch looks every WATCH_SECONDS and waits up to LAYER_TIMEOUT_SECONDS for an answer.
NOTICE_DEADLINE_SECONDS = WATCH_SECONDS + LAYER_TIMEOUT_SECONDS + 3
# What a server log must never hold after a hostile handshake: a traceback, or an error line.
ERROR_LINES = re.compile(r"Traceback|\bERROR\b")


@pytest.fixture
def uvicorn(live_database, redis_server, server_logs) -> Iterator[WebServer]:
    """One Uvicorn process on a Redis of the test's own, which the test may stop and start."""
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=redis_server.url)
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


def open_socket(server: WebServer, path: str, origin: str | None = None) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}{path}",
        origin=origin or f"http://127.0.0.1:{server.port}",
        proxy=None,
        open_timeout=OPEN_TIMEOUT,
        legacy=True,  # connect now and hand the socket back; the test closes it or the server does
    )


def handshake_status(server: WebServer, path: str, origin: str | None = None) -> int:
    """101 when the socket was accepted (and is closed again at once), else the HTTP status."""
    try:
        socket = open_socket(server, path, origin)
    except InvalidStatus as refused:
        return refused.response.status_code
    socket.close()
    return 101


def closed_with(socket: ClientConnection, timeout: float) -> int | None:
    """The close code the server sends within `timeout` seconds; fails if it stays open."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        pass
    raise AssertionError(f"the server kept the socket open for {timeout:g} s")


def errors_in(server: WebServer) -> list[str]:
    return [line for line in server.log().splitlines() if ERROR_LINES.search(line)]


@pytest.mark.parametrize("after", ["%C2%B2", "%E2%91%A0", "abc", "9" * 20])
def test_a_bad_after_is_refused_with_403_and_logs_nothing(uvicorn, after):
    assert handshake_status(uvicorn, f"/ws/notifications/?after={after}") == 403
    assert handshake_status(uvicorn, f"/ws/chat/lobby/?after={after}") == 403
    assert errors_in(uvicorn) == []


def test_a_redis_outage_closes_every_healthy_socket_after_a_bad_handshake(uvicorn, redis_server):
    healthy = [open_socket(uvicorn, "/ws/notifications/") for _ in range(3)]
    # Refused now; it used to be accepted, crash its consumer, and leave it in the process's Redis
    # watch, whose close_all() then stopped at it.
    handshake_status(uvicorn, "/ws/notifications/?after=%C2%B2")

    redis_server.stop()

    assert [closed_with(socket, NOTICE_DEADLINE_SECONDS) for socket in healthy] == [CLOSE_TRY_AGAIN_LATER] * 3


@pytest.mark.parametrize(
    "path", ["/ws/", "/ws/nope/", "/ws/notifications", "/", "/ws/chat/", "/ws/chat/a%20b/"]
)
def test_an_unrouted_path_is_refused_with_403_and_logs_nothing(uvicorn, path):
    assert handshake_status(uvicorn, path) == 403
    assert errors_in(uvicorn) == []


@pytest.mark.parametrize(
    ("path", "origin"),
    [
        ("/ws/chat/lobby/", None),
        ("/ws/notifications/", None),
        ("/ws/nope/", None),
        ("/ws/chat/lobby/", "https://evil.example"),
        ("/ws/chat/lobby/", "http://["),
    ],
)
def test_a_handshake_while_redis_is_down_is_refused_with_403(uvicorn, redis_server, path, origin):
    redis_server.stop()

    assert handshake_status(uvicorn, path, origin) == 403
    assert [line for line in errors_in(uvicorn) if "Traceback" in line] == []


def test_clients_connecting_and_closing_fast_are_all_accepted(uvicorn):
    statuses: list[int] = []

    def connect_and_close_repeatedly() -> None:
        for _ in range(5):
            statuses.append(handshake_status(uvicorn, "/ws/notifications/"))

    # Each last socket to leave used to stop the process's Redis watch and close its client while
    # another handshake was using it.
    clients = [threading.Thread(target=connect_and_close_repeatedly) for _ in range(20)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(60)

    assert statuses == [101] * 100
    assert errors_in(uvicorn) == []


def test_a_redis_outage_logs_one_line_when_it_goes_and_one_when_it_is_back(uvicorn, redis_server):
    socket = open_socket(uvicorn, "/ws/chat/lobby/")  # subscribes this process's layer to Redis
    redis_server.stop()
    time.sleep(5)  # the layer's receive task fails about once a second meanwhile
    redis_server.start()
    socket.close()

    deadline = time.monotonic() + 15
    while "Redis is back" not in uvicorn.log() and time.monotonic() < deadline:
        time.sleep(0.5)

    log = uvicorn.log()
    assert log.count("the channel layer lost Redis") == 1, log
    assert log.count("Redis is back") == 1, log
    assert "Traceback" not in log, log


def test_random_handshakes_get_101_or_403_and_log_nothing(uvicorn, capsys):
    """The fuzz test's property (tests/myproject/test_websocket_fuzz.py) through a real server, a
    bounded number of cases: whatever the path and query, 101 or 403, never a 500 or a traceback."""
    statuses: list[int] = []
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        route=st.sampled_from(["/ws/chat/lobby/", "/ws/notifications/", "/ws/chat/", "/ws/", "/"]),
        tail=st.just("") | text,
        after=st.none() | text | st.integers(min_value=-1, max_value=2**64).map(str),
    )
    def case(route, tail, after):
        query = "" if after is None else f"?after={quote(after)}"
        statuses.append(handshake_status(uvicorn, f"{route}{quote(tail)}{query}"))
        assert statuses[-1] in {101, 403}

    case()
    with capsys.disabled():
        print(f"\nUvicorn fuzz: {len(statuses)} handshakes, {statuses.count(101)} accepted, no 500")
    assert errors_in(uvicorn) == []
