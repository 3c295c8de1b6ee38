"""Every socket the project serves reads its frames through one reader, against a real Uvicorn: a
frame nested deeper than the limit gets an error frame, the socket stays open, nothing is logged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from websockets.sync.client import ClientConnection, connect

from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server

pytestmark = pytest.mark.live

FRAME_TIMEOUT = 5.0
ERROR_LINES = re.compile(r"Traceback|\bERROR\b")
DEEP = "[" * 5_000  # what crashed the race socket: RecursionError, not ValueError, from json.loads


@pytest.fixture(scope="module")
def uvicorn(live_database, shared_redis_url, tmp_path_factory) -> Iterator[WebServer]:
    env = base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)
    server = uvicorn_server(env, tmp_path_factory.mktemp("frames-live-logs"))
    server.start()
    yield server
    server.stop()


def open_socket(server: WebServer, path: str) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}{path}",
        origin=f"http://127.0.0.1:{server.port}",
        proxy=None,
        open_timeout=FRAME_TIMEOUT,
    )


def next_error(socket: ClientConnection) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=FRAME_TIMEOUT))
        if frame["type"] == "error":
            return frame


@pytest.mark.parametrize(
    ("path", "code"),
    [("/ws/chat/lobby/", "invalid_json"), ("/ws/notifications/", "read_only"), ("/ws/race/", "invalid_json")],
)
def test_deeply_nested_json_gets_an_error_frame_and_logs_nothing(uvicorn, path, code):
    with open_socket(uvicorn, path) as socket:
        socket.send(DEEP)
        assert next_error(socket)["code"] == code
        socket.send(DEEP)  # still open, still answering
        assert next_error(socket)["code"] == code

    assert [line for line in uvicorn.log().splitlines() if ERROR_LINES.search(line)] == []


def test_the_wire_echo_reads_through_the_same_reader(uvicorn):
    with open_socket(uvicorn, "/ws/wire/") as socket:
        assert json.loads(socket.recv(timeout=FRAME_TIMEOUT))["type"] == "trace"
        socket.send(DEEP)
        assert socket.recv(timeout=FRAME_TIMEOUT) == DEEP[:200]

    assert [line for line in uvicorn.log().splitlines() if ERROR_LINES.search(line)] == []
