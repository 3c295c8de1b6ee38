"""Lines a client can make the servers write are one short line per event (myproject/log_filters.py),
checked in the log of a real Uvicorn started by deploy/start-asgi.sh."""

from __future__ import annotations

import socket
import time

import pytest

from loadtests.hostile import OPCODES, ROOM, frame, open_socket
from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server

pytestmark = pytest.mark.live

LONG_HOST = "h" * 10_000
# The filter keeps 200 characters of what the client sent, then the count.
LONGEST_LINE = 400


@pytest.fixture(params=["websockets", "websockets-sansio"])
def uvicorn(request, live_database, shared_redis_url, server_logs):
    env = base_environment(
        DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url, UVICORN_WS=request.param
    )
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


def wait_for_log(server: WebServer, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            time.sleep(0.2)  # the rest of the record, if it has more lines
            return server.log()
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never logged:\n{server.log_tail()}")


def test_a_10_kb_host_header_is_logged_on_one_short_line(uvicorn):
    with socket.create_connection(("127.0.0.1", uvicorn.port), timeout=10) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {LONG_HOST}\r\nConnection: close\r\n\r\n".encode())
        status = sock.recv(4096).split(b"\r\n", 1)[0]

    log = wait_for_log(uvicorn, "Invalid HTTP_HOST header")
    lines = [line for line in log.splitlines() if "hhhhhhhhhh" in line]
    assert status == b"HTTP/1.1 400 Bad Request"
    assert len(lines) == 1
    assert len(lines[0]) < LONGEST_LINE
    assert lines[0].endswith("characters)")  # the count of what was cut
    assert "Traceback" not in log


def test_a_text_frame_that_is_not_utf8_closes_the_socket_with_no_error_logged(uvicorn):
    sock = open_socket(uvicorn.port, f"/ws/chat/{ROOM}/")
    try:
        sock.settimeout(10)
        sock.sendall(frame(OPCODES["text"], b"\xff\xfe not utf-8"))
        received = b""
        while b"\x88" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    time.sleep(0.5)

    close = received[received.find(b"\x88") :]
    assert int.from_bytes(close[2:4], "big") == 1007
    assert "Traceback" not in uvicorn.log()
    assert " ERROR " not in uvicorn.log()
    assert "ERROR:" not in uvicorn.log()
