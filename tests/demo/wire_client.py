"""The requests the /demo/wire/ page's script makes, made by a test: a capture, then its trace."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

from demo.consumers import MAX_FRAMES
from myproject.wire.recorders import CAPTURE_PATH, SOCKET_PATH, TRACE_HEADER

# A trace is stored before the capture's answer leaves, and a socket's a moment after it closed;
# this leaves room for a shared, busy machine.
TRACE_WAIT_SECONDS = 5.0
FRAME_TIMEOUT = 5.0


def captured(
    base_url: str, session: requests.Session | None = None, **headers: str
) -> tuple[requests.Response, str]:
    """GET the capture path; its response and the token of its trace."""
    response = (session or requests.Session()).get(f"{base_url}{CAPTURE_PATH}", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response, response.headers[TRACE_HEADER]


def trace_response(base_url: str, token: str) -> requests.Response:
    return requests.get(f"{base_url}/demo/wire/trace/{token}/", timeout=10)


def trace(base_url: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + TRACE_WAIT_SECONDS
    while (response := trace_response(base_url, token)).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert response.status_code == 200, response.text
    return response.json()


def echo_exchange(port: int, cookie: str | None = None) -> tuple[str, list[str], int | None]:
    """The page's exchange on the echo socket: the token it names, the echoes of its frames, and
    the code the server closed with."""
    with connect(
        f"ws://127.0.0.1:{port}{SOCKET_PATH}",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": cookie} if cookie else None,
        proxy=None,
        open_timeout=FRAME_TIMEOUT,
    ) as socket:
        token = json.loads(socket.recv(timeout=FRAME_TIMEOUT))["token"]
        echoes = []
        for number in range(1, MAX_FRAMES + 1):
            socket.send(f"ping {number}")
            echoes.append(str(socket.recv(timeout=FRAME_TIMEOUT)))
        # The server closes by itself after MAX_FRAMES echoes.
        with pytest.raises(ConnectionClosedOK):
            socket.recv(timeout=FRAME_TIMEOUT)
        close_code = socket.close_code
    return token, echoes, close_code


def entries(trace: dict[str, Any], group: str) -> dict[str, dict[str, str]]:
    """A group of a WSGI trace's environ, or an ASGI trace's scope ("scope"), by key."""
    items = trace["scope"]["entries"] if group == "scope" else trace["environ"][group]
    return {item["key"]: item for item in items}


def event_types(trace: dict[str, Any]) -> list[str]:
    return [f"{event['direction']} {event['type']}" for event in trace["events"]]
