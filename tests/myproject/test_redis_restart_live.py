"""After Redis restarts, a chat handshake made once /readyz says ok is accepted, with either
channel layer: no connection to the old Redis, idle in a pool, is found broken on first use
(myproject/redis_clients.py)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import pytest
import requests
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from stacks.redis_server import RedisServer
from stacks.web import WebServer, uvicorn_server
from tests.chat.live import chat_environment, session_cookie

# Handshakes at once, before the restart and after: each may take a connection of its own from a
# pool (the presence store's, the channel layer's), so the pools hold this many.
HANDSHAKES = 40
READY_TIMEOUT = 30.0


@pytest.fixture(params=["RedisPubSubChannelLayer", "RedisChannelLayer"])
def uvicorn(request, live_database, redis_server, server_logs) -> Iterator[WebServer]:
    env = chat_environment(live_database, redis_server.url, REDIS_CHANNEL_LAYER=request.param)
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


async def handshake(server: WebServer, room: str, cookie: str) -> int:
    """101 once the history and presence frames came, else the refusal's HTTP status."""
    try:
        async with connect(
            f"ws://127.0.0.1:{server.port}/ws/chat/{room}/",
            origin=Origin(server.url),
            additional_headers={"Cookie": cookie},
            open_timeout=10,
            proxy=None,
        ) as socket_:
            await asyncio.wait_for(socket_.recv(), 10)  # history
            await asyncio.wait_for(socket_.recv(), 10)  # presence
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


async def handshakes_at_once(server: WebServer, cookie: str, label: str) -> list[int]:
    rooms = [f"restart-{label}-{number}" for number in range(HANDSHAKES)]
    return list(await asyncio.gather(*(handshake(server, room, cookie) for room in rooms)))


def wait_until_ready(server: WebServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while requests.get(f"{server.url}/readyz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, f"/readyz not ok {READY_TIMEOUT:g} s after the restart"
        time.sleep(0.2)


def test_a_handshake_after_readyz_says_ok_again_is_accepted(uvicorn, redis_server: RedisServer):
    cookie = session_cookie(uvicorn, "alice")
    assert asyncio.run(handshakes_at_once(uvicorn, cookie, "before")) == [101] * HANDSHAKES

    redis_server.stop(signal.SIGKILL)
    redis_server.start()
    wait_until_ready(uvicorn)

    assert asyncio.run(handshakes_at_once(uvicorn, cookie, "after")) == [101] * HANDSHAKES
