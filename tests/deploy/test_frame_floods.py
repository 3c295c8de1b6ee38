"""One anonymous client flooding a chat socket with one kind of frame and never reading, against each
ASGI server as its start script runs it: what the server may hold for it is bounded (or, where no
option bounds it, the start script does not serve WebSockets). `make hostile` runs the same floods
for 60 s (loadtests/hostile.py); these are shorter."""

from __future__ import annotations

import re
import socket

import pytest
import requests

from loadtests.hostile import FRAMES, MAX_GROWTH_MB, OPCODES, ROOM, flood, frame, open_socket
from testbed.processes import ROOT
from testbed.web import WebServer, daphne_server, granian_server, gunicorn_asgi_server, uvicorn_server

pytestmark = pytest.mark.live

FLOOD_SECONDS = 10
WS_MAX_SIZE = 32768  # the start scripts' default
CLOSE_MESSAGE_TOO_BIG = 1009


@pytest.fixture(scope="module")
def env(live_database, shared_redis_url) -> dict[str, str]:
    from testbed.environment import base_environment

    return base_environment(DATABASE_URL=live_database.url, REDIS_URL=shared_redis_url)


def started(server: WebServer):
    server.start()
    return server


@pytest.mark.parametrize("kind", FRAMES)
def test_uvicorn_holds_under_20_mb_for_a_client_flooding_frames_it_never_reads(kind, env, server_logs):
    # Uvicorn's default WebSocket implementation (UVICORN_WS=auto) grew 120 MB in 10 s of pings.
    server = started(uvicorn_server(env, server_logs, workers=1))
    try:
        result = flood(server, kind, FLOOD_SECONDS)
    finally:
        server.stop()

    assert result.connections >= 1
    assert result.peak_growth_mb < MAX_GROWTH_MB, result


def close_code_after(port: int, message_bytes: int) -> int | None:
    """Send one text message of `message_bytes` in 1 KB fragments; the close code the server sends."""
    sock = open_socket(port, f"/ws/chat/{ROOM}/")
    sock.settimeout(10)
    try:
        fragment = b"x" * 1024
        sock.sendall(frame(OPCODES["text"], fragment, fin=False))
        for _ in range(message_bytes // len(fragment)):
            sock.sendall(frame(OPCODES["continuation"], fragment, fin=False))
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            # A server frame: the close frame is opcode 8, its first two payload bytes the code.
            at = received.find(b"\x88")
            if at >= 0 and len(received) >= at + 4:
                return int.from_bytes(received[at + 2 : at + 4], "big")
        return None
    except (ConnectionResetError, BrokenPipeError):
        return None
    finally:
        sock.close()


def test_gunicorns_asgi_worker_closes_a_message_past_the_start_scripts_size_limit(env, server_logs):
    # Gunicorn's own default is 16 MB, held in memory until the message's last fragment arrives.
    server = gunicorn_asgi_server(env, server_logs, workers=1)
    server.env["DJANGO_WEBSOCKETS"] = "1"
    server.start()
    try:
        code = close_code_after(server.port, 2 * WS_MAX_SIZE)
    finally:
        server.stop()

    assert code == CLOSE_MESSAGE_TOO_BIG


def test_granian_serves_no_websocket_unless_told_to(env, server_logs):
    # Nothing bounds what Granian holds for a client that sends pings and never reads (440 MB in 10 s).
    server = started(granian_server(env, server_logs, "asgi"))
    try:
        with pytest.raises(ConnectionError, match=r"handshake refused|closed the handshake"):
            open_socket(server.port, f"/ws/chat/{ROOM}/").close()
    finally:
        server.stop()


def test_granian_serves_websockets_when_told_to(env, server_logs):
    server = granian_server(env, server_logs, "asgi")
    server.env["GRANIAN_WEBSOCKETS"] = "1"
    server.start()
    try:
        sock: socket.socket = open_socket(server.port, f"/ws/chat/{ROOM}/")
        sock.close()
    finally:
        server.stop()


@pytest.mark.parametrize("make_server", [daphne_server, gunicorn_asgi_server])
def test_daphne_and_gunicorns_asgi_worker_serve_no_websocket_unless_told_to(make_server, env, server_logs):
    # Nothing bounds what they hold for a client that sends pings (or, on Daphne, messages) and
    # never reads: a socket refused at the handshake cannot be flooded. Plain HTTP still works.
    server = started(make_server(env, server_logs))
    try:
        with pytest.raises(ConnectionError, match=r"handshake refused|closed the handshake"):
            open_socket(server.port, f"/ws/chat/{ROOM}/").close()
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()


@pytest.mark.parametrize("make_server", [daphne_server, gunicorn_asgi_server])
def test_daphne_and_gunicorns_asgi_worker_serve_websockets_when_told_to(make_server, env, server_logs):
    server = make_server(env, server_logs)
    server.env["DJANGO_WEBSOCKETS"] = "1"
    server.start()
    try:
        open_socket(server.port, f"/ws/chat/{ROOM}/").close()
    finally:
        server.stop()


@pytest.mark.parametrize("started_by", ["Procfile", "deploy/Procfile.local", "docker-compose.yml"])
def test_every_deployment_serves_websockets_through_uvicorn_only(started_by):
    # Daphne's queue and Gunicorn's asgi worker's pongs are unbounded: they serve the comparison
    # harness on loopback, never a client.
    scripts = set(re.findall(r"deploy/(start-[a-z-]+\.sh)", (ROOT / started_by).read_text()))

    assert "start-asgi.sh" in scripts
    assert not scripts & {"start-daphne.sh", "start-gunicorn-asgi.sh", "start-granian.sh"}
