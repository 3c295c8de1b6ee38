"""Chunked request bodies that Gunicorn's parser accepts and Uvicorn's refuses (a chunk size written
`0x0`, chunk lines ended by a bare LF) never reach Gunicorn through the project's nginx: nginx reads
every body whole before it opens an upstream connection (proxy_request_buffering), so it either
refuses a body it cannot parse or passes it on re-framed with a Content-Length.

The upstream here is a recorder that answers 200 to anything and keeps the bytes it was sent: what
Gunicorn would have been handed."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from testbed.nginx import NGINX_BINARY, NginxServer
from tests.conftest import skip_unless

pytestmark = pytest.mark.live

WSGI_PATH = "/reports/"  # nginx sends it to the WSGI stack


class RecordingUpstream(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class RecordingHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5)
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                received += chunk
            head = received.split(b"\r\n\r\n", 1)[0].lower()
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                    while len(received.split(b"\r\n\r\n", 1)[1]) < length:
                        received += self.request.recv(65536)
        except TimeoutError:
            pass
        self.server.requests.append(received)  # type: ignore[attr-defined]
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def nginx(upstream, server_logs) -> Iterator[NginxServer]:
    skip_unless(NGINX_BINARY is not None, "nginx is not installed (apt-get install nginx-light)")
    server = NginxServer(upstream.url, upstream.url, server_logs)
    server.start()
    yield server
    server.stop()


def send_chunked(port: int, body: bytes) -> bytes:
    """POST `body` (already chunk-framed, as a client wrote it) through nginx; its status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {WSGI_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def forwarded_since(upstream: RecordingUpstream, before: int) -> list[bytes]:
    return [request for request in upstream.requests[before:] if request.startswith(b"POST")]


def test_nginx_refuses_a_chunk_size_written_0x0_before_gunicorn_sees_it(nginx, upstream):
    before = len(upstream.requests)

    status = send_chunked(nginx.port, b"5\r\nhello\r\n0x0\r\n\r\n")

    assert status == b"HTTP/1.1 400 Bad Request"
    assert forwarded_since(upstream, before) == []


def test_nginx_passes_a_body_with_bare_lf_chunk_lines_on_only_re_framed(nginx, upstream):
    # nginx's chunked parser takes a bare LF; what it sends on is the body it read, with a length.
    before = len(upstream.requests)

    status = send_chunked(nginx.port, b"5\nhello\n0\n\n")

    [request] = forwarded_since(upstream, before)
    head, body = request.split(b"\r\n\r\n", 1)
    assert status == b"HTTP/1.1 200 OK"
    assert b"transfer-encoding" not in head.lower()
    assert b"content-length: 5" in head.lower()
    assert body == b"hello"
