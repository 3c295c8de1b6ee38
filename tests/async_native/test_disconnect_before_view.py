"""A client gone before the view starts, on each stack.

The async-native stack looks for a disconnect the server has already reported before it dispatches,
and starts no middleware or view for it (async_native/handler.py, dispatch_unless_gone).

Django's stack notices the disconnect when handle() cancels the request's task, and a cancellation
reaches only what runs on that task. Its middleware hops to a thread and back, and a hop of a
sync-only middleware (WhiteNoise's) runs the rest of the chain from that thread through
async_to_sync, on a task of its own: a disconnect that lands during that hop cancels the waiting,
not the chain, and the view runs for nobody. Whether a client already gone gets a view there is a
race between the disconnect and that hop; the second test makes it land in the hop, every time.
"""

import asyncio
import threading
import time

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.urls import path
from whitenoise.middleware import WhiteNoiseMiddleware

from tests.async_native.asgi_calls import http_scope

views_started: list[str] = []
view_ended = threading.Event()


def slow(request):
    views_started.append(request.path)
    time.sleep(0.5)
    view_ended.set()
    return HttpResponse("done")


urlpatterns = [path("slow/", slow)]


@pytest.fixture
def this_urlconf(settings):
    settings.ROOT_URLCONF = __name__
    views_started.clear()
    view_ended.clear()


async def test_a_def_view_does_not_start_for_a_client_already_gone(async_native, this_urlconf):
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict] = []

    async def receive() -> dict:
        # As Uvicorn answers once the connection is lost: at once, without waiting.
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    async with asyncio.timeout(10):
        await async_native(scope=http_scope("/slow/"), receive=receive, send=send)

    assert views_started == []
    assert sent == []


async def test_on_djangos_stack_a_disconnect_during_a_sync_middlewares_hop_does_not_stop_the_view(
    this_urlconf, monkeypatch
):
    loop = asyncio.get_running_loop()
    in_whitenoise = asyncio.Event()
    whitenoise_call = WhiteNoiseMiddleware.__call__

    def call_then_linger(self, request):
        # On the hop's thread: the client leaves now, and the loop cancels the request's task
        # before WhiteNoise passes the request on.
        loop.call_soon_threadsafe(in_whitenoise.set)
        time.sleep(0.2)
        return whitenoise_call(self, request)

    monkeypatch.setattr(WhiteNoiseMiddleware, "__call__", call_then_linger)
    stock = ASGIHandler()  # loads the middleware, the patched WhiteNoise among them
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict] = []

    async def receive() -> dict:
        message = next(messages, None)
        if message is None:
            await in_whitenoise.wait()
            return {"type": "http.disconnect"}
        return message

    async def send(message: dict) -> None:
        sent.append(message)

    async with asyncio.timeout(10):
        await stock(scope=http_scope("/slow/"), receive=receive, send=send)
        # handle() has returned; the view, started from WhiteNoise's thread, runs to its end.
        assert await asyncio.to_thread(view_ended.wait, 5)

    assert views_started == ["/slow/"]
    assert sent == []  # nobody to answer: the response is dropped
