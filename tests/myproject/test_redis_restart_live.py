"""After Redis restarts, a chat handshake made once /readyz says ok is accepted, with either
channel layer: no connection to the old Redis, idle in a pool, is found broken on first use
(myproject/redis_clients.py)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from loadtests.restart_handshakes import ACCEPTED, handshakes, wait_until_ready
from testbed.redis_server import RedisServer
from testbed.web import WebServer, uvicorn_server
from tests.chat.live import chat_environment, session_cookie

# Handshakes at once, before the restart and after: each may take a connection of its own from a
# pool (the presence store's, the channel layer's), so the pools hold this many.
HANDSHAKES = 40


@pytest.fixture(params=["RedisPubSubChannelLayer", "RedisChannelLayer"])
def uvicorn(request, live_database, redis_server, server_logs) -> Iterator[WebServer]:
    env = chat_environment(live_database, redis_server.url, REDIS_CHANNEL_LAYER=request.param)
    server = uvicorn_server(env, server_logs)
    server.start()
    yield server
    server.stop()


def test_a_handshake_after_readyz_says_ok_again_is_accepted(uvicorn, redis_server: RedisServer):
    cookie = session_cookie(uvicorn, "alice")
    assert asyncio.run(handshakes([uvicorn.url], cookie, HANDSHAKES, HANDSHAKES)) == [ACCEPTED] * HANDSHAKES

    redis_server.stop(signal.SIGKILL)
    redis_server.start()
    wait_until_ready([uvicorn.url])

    assert asyncio.run(handshakes([uvicorn.url], cookie, HANDSHAKES, HANDSHAKES)) == [ACCEPTED] * HANDSHAKES
