"""Slow clients (slowloris) against the stacks, straight and through the project's nginx config
(deploy/nginx/default.conf.template under Debian's nginx): a sync worker is held by any client
that trickles its request in; nginx reads requests whole before it passes them on."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from websockets.sync.client import connect

from testbed.nginx import NGINX_BINARY, NginxServer
from testbed.web import uvicorn_server
from tests.conftest import skip_unless

pytestmark = pytest.mark.live

SLOW_CLIENTS = 50
TRICKLE_SECONDS = 1.0
NGINX_CLIENT_HEADER_TIMEOUT = 10  # client_header_timeout in the template


@pytest.fixture(scope="module")
def nginx(live_stacks, server_logs) -> Iterator[NginxServer]:
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    server = NginxServer(live_stacks.wsgi.url, live_stacks.asgi.url, server_logs)
    server.start()
    yield server
    server.stop()


class SlowClient:
    """Sends the start of a request, then one more byte every TRICKLE_SECONDS: a request head that
    never ends, or (with a body) a head that announces 100 KB and a body that never comes."""

    def __init__(self, port: int, path: str, with_body: bool):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = f"{'POST' if with_body else 'GET'} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        if with_body:
            head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na=1"
        else:
            head += "X-Slow: "
        self.sock.sendall(head.encode())

    def trickle(self) -> None:
        self.sock.sendall(b"x")

    def finish_head(self) -> bytes:
        """End the request head, and read the first line of the answer."""
        self.sock.sendall(b"\r\nConnection: close\r\n\r\n")
        return self.sock.recv(4096).split(b"\r\n", 1)[0]

    def close(self) -> None:
        self.sock.close()


class Trickler:
    """Keeps every slow client trickling on a thread of its own until stopped."""

    def __init__(self, clients: list[SlowClient]):
        self.clients = clients
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stopped.wait(TRICKLE_SECONDS):
            for client in self.clients:
                with contextlib.suppress(OSError):  # nginx may drop one; the others go on
                    client.trickle()

    def __enter__(self) -> Trickler:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join(10)
        for client in self.clients:
            client.close()


def test_fifty_slow_clients_through_nginx_block_neither_stack(nginx):
    # Half trickle a head, half a body; the bodies go to a WSGI path and to an ASGI one.
    paths = ["/reports/", "/demo/async/hello/"]
    clients = [
        SlowClient(nginx.port, paths[n % 2], with_body=n >= SLOW_CLIENTS // 2) for n in range(SLOW_CLIENTS)
    ]
    with Trickler(clients):
        served = [
            requests.get(f"{nginx.url}{path}", timeout=10).headers["X-Interface"]
            for path in ["/healthz", "/demo/async/hello/"] * 5
        ]
        # The slow heads were still open all along: ended now, they are answered.
        finished = [client.finish_head() for client in clients[:3]]

    assert served == ["wsgi", "asgi"] * 5
    assert finished == [b"HTTP/1.1 200 OK"] * 3


def test_two_slow_clients_straight_at_gunicorn_hold_both_its_sync_workers(live_stacks):
    # Why the WSGI stack must sit behind a buffering proxy: the session's Gunicorn has two workers.
    clients = [SlowClient(live_stacks.wsgi.port, "/healthz", with_body=False) for _ in range(2)]
    with Trickler(clients):
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{live_stacks.wsgi.url}/healthz", timeout=3)
        finished = [client.finish_head() for client in clients]

    assert finished == [b"HTTP/1.1 200 OK"] * 2
    assert requests.get(f"{live_stacks.wsgi.url}/healthz", timeout=10).status_code == 200


def test_nginx_drops_a_client_that_stalls_its_request_head(nginx):
    stalled = SlowClient(nginx.port, "/healthz", with_body=False)
    stalled.sock.settimeout(3 * NGINX_CLIENT_HEADER_TIMEOUT)  # nginx's own default is 60 s
    try:
        answer = stalled.sock.recv(4096)  # nothing more is sent: nginx must give up first
    finally:
        stalled.close()

    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")


def test_nginx_refuses_a_huge_request_head_before_it_reaches_a_stack(nginx):
    # Uvicorn with httptools would take it: it has no limit on the size of a request head.
    response = requests.get(
        f"{nginx.url}/demo/async/hello/", headers={"X-Big": "a" * 1024 * 1024}, timeout=10
    )

    assert response.status_code in {400, 494}
    assert "X-Interface" not in response.headers  # answered by nginx, not by a stack


def request_with_header(port: int, size: int) -> bytes:
    """The first line of the answer to a GET with one header of `size` bytes, or b"reset"."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'a' * size}\r\n\r\n".encode())
            return sock.recv(4096).split(b"\r\n", 1)[0]
        except (ConnectionResetError, BrokenPipeError):  # it answered and closed while the head still came
            return b"reset"


def test_uvicorn_with_h11_refuses_a_request_head_over_its_limit(live_stacks, server_logs):
    uvicorn = uvicorn_server({**live_stacks.env, "UVICORN_HTTP": "h11"}, server_logs)
    uvicorn.start()
    try:
        small = request_with_header(uvicorn.port, 8 * 1024)
        huge = request_with_header(uvicorn.port, 1024 * 1024)
    finally:
        uvicorn.stop()

    assert small == b"HTTP/1.1 200 OK"
    assert huge in {b"HTTP/1.1 400 Bad Request", b"reset"}


def test_an_idle_websocket_outlives_the_client_timeouts(nginx):
    # The slow-client timeouts are for requests; a chat socket may sit idle much longer.
    with connect(f"ws://127.0.0.1:{nginx.port}/ws/chat/lobby/", origin=nginx.url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "history"
        time.sleep(NGINX_CLIENT_HEADER_TIMEOUT + 3)

        ws.send(json.dumps({"type": "message", "text": "still there?"}))
        reply = json.loads(ws.recv(timeout=10))
        while reply["type"] != "error":  # presence frames may come first
            reply = json.loads(ws.recv(timeout=10))

    assert reply["code"] == "auth_required"  # anonymous: refused, but by the consumer, on a live socket
