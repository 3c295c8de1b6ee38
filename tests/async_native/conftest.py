"""Fixtures of the async_native tests: both stacks' handlers, and what a request costs them."""

import threading

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

from async_native.handler import PooledThreadASGIHandler


@pytest.fixture
def async_native():
    """The package's handler: it loads its middleware classes in place of Django's."""
    return PooledThreadASGIHandler()


@pytest.fixture
def stock():
    """Django's handler and middleware, as shipped."""
    return ASGIHandler()


@pytest.fixture(params=["stock", "async-native"])
def stack(request):
    """The test runs once on each stack's handler."""
    return request.getfixturevalue(request.param.replace("-", "_"))


@pytest.fixture
def asgi_connection_policy(monkeypatch) -> None:
    """settings.py's policy for an ASGI process: close the connection when the request ends (the
    suite's settings are a WSGI process's, which keep it for the next request on the thread, and a
    request thread that ends holding one leaves it open)."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def hops(monkeypatch) -> list[str]:
    """Every crossing between the event loop and a thread, either way, by asgiref's two bridges."""
    crossings: list[str] = []
    sync_to_async_call = SyncToAsync.__call__
    async_to_sync_call = AsyncToSync.__call__

    async def counted_sync_to_async(self, *args, **kwargs):
        crossings.append(f"sync_to_async({getattr(self.func, '__qualname__', self.func)!r})")
        return await sync_to_async_call(self, *args, **kwargs)

    def counted_async_to_sync(self, *args, **kwargs):
        crossings.append(f"async_to_sync({getattr(self.awaitable, '__qualname__', self.awaitable)!r})")
        return async_to_sync_call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted_sync_to_async)
    monkeypatch.setattr(AsyncToSync, "__call__", counted_async_to_sync)
    return crossings


@pytest.fixture
def threads_started(monkeypatch) -> list[str]:
    started: list[str] = []
    start = threading.Thread.start

    def counted_start(self):
        started.append(self.name)
        return start(self)

    monkeypatch.setattr(threading.Thread, "start", counted_start)
    return started
