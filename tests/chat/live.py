"""Chat clients for tests against real servers: a signed-in session and its WebSocket."""

from __future__ import annotations

import json
import time

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from testbed.environment import base_environment
from testbed.login import logged_in_session
from testbed.web import WebServer, uvicorn_server

# The one wait for a frame that must come, in process or over a real socket: it arrives in
# milliseconds; this leaves room for a shared 2-core machine under a parallel test run.
FRAME_TIMEOUT = 5.0
# Short, so that a dead process's users expire within seconds: heartbeats every second.
PRESENCE_TTL_SECONDS = "3"


def chat_environment(live_database, redis_url: str, **overrides: str) -> dict[str, str]:
    return base_environment(
        DATABASE_URL=live_database.url,
        REDIS_URL=redis_url,
        CHAT_PRESENCE_TTL_SECONDS=PRESENCE_TTL_SECONDS,
        **overrides,
    )


def start_two_uvicorns(live_database, redis_url: str, log_dir) -> list[WebServer]:
    """Two separate Uvicorn processes sharing one database and one Redis, as two hosts would."""
    env = chat_environment(live_database, redis_url)
    servers = [uvicorn_server(env, log_dir), uvicorn_server(env, log_dir)]
    for server in servers:
        server.start()
    return servers


def session_cookie(server: WebServer, username: str) -> str:
    """The session cookie of a real login on `server`, for a WebSocket handshake's headers."""
    session = logged_in_session(server.url, username)
    return f"sessionid={session.cookies['sessionid']}"


def open_chat(
    server: WebServer, room: str, cookie: str | None = None, after: int | None = None, **options
) -> ClientConnection:
    query = f"?after={after}" if after is not None else ""
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/chat/{room}/{query}",
        origin=f"http://127.0.0.1:{server.port}",
        additional_headers={"Cookie": cookie} if cookie else None,
        proxy=None,
        open_timeout=FRAME_TIMEOUT,
        legacy=True,  # connect now and hand the socket back; the test closes it or the server does
        **options,
    )


def joined(server: WebServer, room: str, cookie: str | None = None, after: int | None = None):
    """Open a chat socket and read its first two frames: (socket, history messages, presence users)."""
    socket = open_chat(server, room, cookie, after)
    history = next_frame(socket)
    presence = next_frame(socket)
    assert (history["type"], presence["type"]) == ("history", "presence")
    return socket, history["messages"], presence["users"]


def next_frame(socket: ClientConnection, timeout: float = FRAME_TIMEOUT) -> dict:
    return json.loads(socket.recv(timeout=timeout))


def next_frame_of_type(socket: ClientConnection, frame_type: str, timeout: float = FRAME_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = next_frame(socket, max(0.01, deadline - time.monotonic()))
        if frame["type"] == frame_type:
            return frame


def send_message(socket: ClientConnection, text: str, client_id: str | None = None) -> None:
    socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))


def wait_for_close(socket: ClientConnection, timeout: float, frames: list | None = None) -> ConnectionClosed:
    """Read until the server closes the socket (keeping the frames read in `frames`); fails if it
    stays open for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
        except ConnectionClosed as closed:
            return closed
        if frames is not None:
            frames.append(frame)
    raise AssertionError(f"the server kept the socket open for {timeout:g} s")


def reconnect(server: WebServer, room: str, cookie: str | None, after: int | None, timeout: float):
    """Keep trying to join, as the page does, until the server accepts within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return joined(server, room, cookie, after)
        except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
