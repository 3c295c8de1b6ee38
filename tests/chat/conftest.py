"""Fixtures for the chat tests: users with sessions, and the channel layer to run on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from myproject.asgi import application
from myproject.settings import REDIS_CHANNEL_LAYERS
from tests.chat.live import FRAME_TIMEOUT, start_two_uvicorns

__all__ = ["FRAME_TIMEOUT"]  # the chat tests' one frame wait, imported from here by their modules

ALLOWED_ORIGIN = (b"origin", b"http://localhost")
# The handshake's own host: the origin check allows the page's own origin (myproject/realtime/origin.py).
HOST = (b"host", b"localhost")


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice")


@pytest.fixture(
    params=[
        "InMemoryChannelLayer",
        # A Redis layer needs a Redis process: the test is live.
        *(pytest.param(name, marks=pytest.mark.live) for name in REDIS_CHANNEL_LAYERS),
    ]
)
def layer(request, settings) -> str:
    """Run the test on the in-memory layer (runserver, unit tests) and on each real Redis layer
    the servers can run, with presence in that Redis too."""
    if request.param in REDIS_CHANNEL_LAYERS:
        redis_url = request.getfixturevalue("shared_redis_url")
        settings.REDIS_URL = redis_url
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": REDIS_CHANNEL_LAYERS[request.param],
                "CONFIG": {"hosts": [redis_url], "prefix": f"test-{uuid.uuid4().hex[:8]}"},
            }
        }
    else:
        settings.REDIS_URL = ""
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return request.param


@pytest.fixture
def room() -> str:
    """A room of this test's own, so tests sharing a Redis never see each other's presence."""
    return f"room-{uuid.uuid4().hex[:12]}"


def session_cookie_for(username: str) -> bytes:
    user, _ = get_user_model().objects.get_or_create(username=username)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


Connect = Callable[..., Awaitable[WebsocketCommunicator]]


@pytest.fixture
async def connect(transactional_db) -> AsyncIterator[Connect]:
    """Open a chat socket through the project's whole ASGI application (origin check, session
    auth, routing), as `username` or anonymously; every socket is closed after the test."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(
        path: str, username: str | None = None, origin: tuple[bytes, bytes] | None = ALLOWED_ORIGIN
    ) -> WebsocketCommunicator:
        headers = [HOST, origin] if origin else [HOST]
        if username:
            headers.append((b"cookie", await sync_to_async(session_cookie_for)(username)))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        return communicator

    yield open_socket
    for communicator in opened:
        await communicator.disconnect()
    # The consumers' database_sync_to_async calls ran on asgiref's one shared thread, whose
    # connection outlives the test (CONN_MAX_AGE): close it there, or the test database cannot be
    # dropped at the end of the run.
    await sync_to_async(connections.close_all)()


@pytest.fixture(scope="module")
def two_uvicorns(live_database, shared_redis_url, server_logs) -> Iterator[list]:
    """Two Uvicorn processes on one Redis and one database, shared by a test module."""
    servers = start_two_uvicorns(live_database, shared_redis_url, server_logs)
    yield servers
    for server in servers:
        server.stop()
