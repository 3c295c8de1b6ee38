"""Lines a client can make the servers write are one short line per event (myproject/log_filters.py),
checked in the log of a real Uvicorn started by deploy/start-asgi.sh; and the LOGGING configuration
that installs the filters, checked as data."""

from __future__ import annotations

import socket
import time

import pytest
from django.utils.module_loading import import_string

from loadtests.hostile import OPCODES, ROOM, frame, open_socket
from myproject.log_filters import logging_config
from testbed.environment import base_environment
from testbed.web import WebServer, uvicorn_server

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


@pytest.mark.live
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


@pytest.mark.live
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


def test_the_logging_config_defines_every_filter_it_installs_and_each_imports():
    config = logging_config(django_level="INFO")
    installed = set(config["handlers"]["console"]["filters"])
    installed |= {name for logger in config["loggers"].values() for name in logger.get("filters", [])}

    assert installed == set(config["filters"])
    assert all(import_string(spec["()"]) for spec in config["filters"].values())


def test_the_logging_config_sets_djangos_loggers_to_the_level_given():
    assert logging_config(django_level="WARNING")["loggers"]["django"]["level"] == "WARNING"
