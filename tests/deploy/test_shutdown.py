"""SIGTERM to each stack's server, as Docker or honcho sends it: what was accepted is finished, and
nothing keeps the process alive past its graceful timeout (GRACEFUL_TIMEOUT, shortened here)."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from testbed.environment import base_environment
from testbed.login import logged_in_session
from testbed.processes import wait_until
from testbed.web import WebServer, gunicorn_server, uvicorn_server
from tests.reports.live_exports import StalledReader, create_export_database

pytestmark = pytest.mark.live

REQUESTS = 8
SLEEP_MS = 1500
STOP_SECONDS = 30  # how long a test waits for a server to exit: far beyond the graceful timeouts used
STALLED_GRACEFUL_SECONDS = 3


def start(stack: str, env: dict[str, str], log_dir) -> WebServer:
    # Two sync workers: six of the eight requests wait in the kernel's accept queue.
    server = gunicorn_server(env, log_dir, workers=2) if stack == "wsgi" else uvicorn_server(env, log_dir)
    server.start()
    return server


def accept_queue_length(port: int) -> int:
    """Connections the kernel accepted on the listening socket that no process has taken yet
    (the receive queue of a socket in state LISTEN, in /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            return int(fields[4].split(":")[1], 16)
    raise LookupError(f"no listening socket on port {port}")


def send_request(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=STOP_SECONDS)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_response(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        received += b"<connection reset>"
    finally:
        sock.close()
    return received


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_a_graceful_stop_answers_every_request_already_sent(
    stack, live_database, shared_redis_url, server_logs
):
    # No probe slots: the requests must all be in flight (or queued in the kernel) when it stops.
    env = base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=shared_redis_url,
        GRACEFUL_TIMEOUT="20",
        DJANGO_DEMO_PROBE_SLOTS="0",
    )
    server = start(stack, env, server_logs)
    try:
        path = f"/demo/{'sync' if stack == 'wsgi' else 'async'}/sleep/?ms={SLEEP_MS}"
        sockets = [send_request(server.port, path) for _ in range(REQUESTS)]
        if stack == "wsgi":
            # The case that matters: requests sent, but still queued in the kernel.
            assert accept_queue_length(server.port) > 0
        else:
            # Uvicorn takes each connection as it arrives; give its loop the moment it needs.
            wait_until(lambda: accept_queue_length(server.port) == 0, 10, "Uvicorn to take every connection")

        server.process.send_signal(signal.SIGTERM)
        responses = [read_response(sock) for sock in sockets]
        exit_code = server.process.wait(STOP_SECONDS)
    finally:
        server.stop()

    assert [response.split(b"\r\n", 1)[0] for response in responses] == [b"HTTP/1.1 200 OK"] * REQUESTS
    # Uvicorn raises the signal again once it has shut down, so its parent sees how it ended.
    assert exit_code == (0 if stack == "wsgi" else -signal.SIGTERM)


@pytest.fixture(scope="module")
def export_database(tmp_path_factory):
    database = create_export_database(tmp_path_factory.mktemp("shutdown-export-db"))
    yield database
    database.drop()


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_a_stalled_export_reader_cannot_hold_a_stop_past_the_graceful_timeout(
    stack, export_database, shared_redis_url, server_logs
):
    env = base_environment(
        DATABASE_URL=export_database.url,
        REDIS_URL=shared_redis_url,
        GRACEFUL_TIMEOUT=str(STALLED_GRACEFUL_SECONDS),
    )
    server = start(stack, env, server_logs)
    stalled = StalledReader(server.url, "/reports/order-lines/csv/", logged_in_session(server.url, "alice"))
    try:
        assert stalled.read_head().startswith("HTTP/1.1 200")

        server.process.send_signal(signal.SIGTERM)
        # Raises TimeoutExpired if the reader held the stop (a server's default graceful timeout is
        # 30 s; Uvicorn's is none at all).
        server.process.wait(5 * STALLED_GRACEFUL_SECONDS)
    finally:
        stalled.close()
        server.stop()

    if stack == "asgi":
        assert "timeout graceful shutdown exceeded" in server.log()
